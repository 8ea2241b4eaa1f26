-- Filters employees first in a CTE, then LEFT JOINs and counts a column of the right side.
WITH rich AS (SELECT emp_id, dept_id FROM employees WHERE salary >= 300000)
SELECT departments.dept_id, departments.name, COUNT(rich.emp_id)
FROM departments LEFT JOIN rich ON rich.dept_id = departments.dept_id
GROUP BY departments.dept_id;
