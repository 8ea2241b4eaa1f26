-- The unqualified dept_id inside the subquery binds to the inner table, so it is not correlated.
SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees e
WHERE e.salary > (SELECT AVG(salary) FROM employees x WHERE x.dept_id = dept_id);
