-- Walks upwards from every employee and keeps the last step reached.
WITH RECURSIVE up(start_id, cur_id, steps) AS (
  SELECT emp_id, emp_id, 0 FROM employees
  UNION ALL
  SELECT up.start_id, e.manager_id, up.steps + 1
  FROM up JOIN employees e ON e.emp_id = up.cur_id
  WHERE e.manager_id IS NOT NULL
)
SELECT u.start_id, u.steps, u.cur_id
FROM up u
WHERE u.steps = (SELECT MAX(steps) FROM up v WHERE v.start_id = u.start_id);
