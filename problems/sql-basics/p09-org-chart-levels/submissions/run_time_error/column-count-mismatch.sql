-- Declares three CTE columns but selects only two (table chart has 2 values for 3 columns).
WITH RECURSIVE chart(emp_id, level, top_id) AS (
  SELECT emp_id, 0 FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.emp_id, c.level + 1 FROM employees e JOIN chart c ON e.manager_id = c.emp_id
)
SELECT emp_id, level, top_id FROM chart;
