-- Reports the direct manager as the top manager.
WITH RECURSIVE chart(emp_id, level, boss) AS (
  SELECT emp_id, 0, emp_id FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.emp_id, c.level + 1, e.manager_id FROM employees e JOIN chart c ON e.manager_id = c.emp_id
)
SELECT emp_id, level, boss FROM chart;
