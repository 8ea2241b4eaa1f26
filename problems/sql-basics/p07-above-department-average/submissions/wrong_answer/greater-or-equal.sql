-- Uses >= and so lists employees whose salary equals the average.
SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees e
WHERE e.salary >= (SELECT AVG(x.salary) FROM employees x WHERE x.dept_id = e.dept_id);
