-- Starts counting levels at 1 instead of 0.
WITH RECURSIVE chart(emp_id, level, top_id) AS (
  SELECT emp_id, 1, emp_id FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.emp_id, c.level + 1, c.top_id FROM employees e JOIN chart c ON e.manager_id = c.emp_id
)
SELECT emp_id, level, top_id FROM chart;
