-- Compares each employee with a correlated average that cannot use the department index
-- (COALESCE on the column): quadratic over the generated data, as candidates often write
-- it. A correct answer, so it must fit the default time limit.
SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees e
WHERE e.dept_id IS NOT NULL
  AND e.salary > (SELECT AVG(x.salary) FROM employees x
                  WHERE COALESCE(x.dept_id, -1) = COALESCE(e.dept_id, -1));
