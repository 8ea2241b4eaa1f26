-- Finds the ids with EXCEPT and looks the department name up with a scalar subquery.
WITH leaves(id) AS (
  SELECT emp_id FROM employees
  EXCEPT
  SELECT manager_id FROM employees
)
SELECT id, (SELECT name FROM employees WHERE emp_id = id),
       COALESCE((SELECT d.name FROM departments d JOIN employees x ON x.dept_id = d.dept_id
                 WHERE x.emp_id = id), '(none)')
FROM leaves;
