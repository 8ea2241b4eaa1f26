-- Recursion over ids only, then an outer join back to employees for the output.
WITH RECURSIVE lvl(id, n, top) AS (
  SELECT emp_id, 0, emp_id FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.emp_id, lvl.n + 1, lvl.top FROM lvl JOIN employees e ON e.manager_id = lvl.id
)
SELECT e.emp_id, l.n, l.top
FROM employees e LEFT JOIN lvl l ON l.id = e.emp_id;
