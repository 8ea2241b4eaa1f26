-- Walks upwards but keeps the top manager as the current row forever: the recursion never ends.
WITH RECURSIVE up(start_id, cur_id, steps) AS (
  SELECT emp_id, emp_id, 0 FROM employees
  UNION ALL
  SELECT up.start_id, COALESCE(e.manager_id, up.cur_id), up.steps + 1
  FROM up JOIN employees e ON e.emp_id = up.cur_id
)
SELECT start_id, MAX(steps), MAX(cur_id) FROM up GROUP BY start_id;
