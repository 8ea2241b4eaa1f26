-- Assumes employee 1 is the only top-level employee.
WITH RECURSIVE chart(emp_id, level) AS (
  SELECT 1, 0
  UNION ALL
  SELECT e.emp_id, c.level + 1 FROM employees e JOIN chart c ON e.manager_id = c.emp_id
)
SELECT emp_id, level, 1 FROM chart;
