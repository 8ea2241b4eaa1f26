SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees AS e
WHERE e.salary > (SELECT AVG(x.salary) FROM employees AS x WHERE x.dept_id = e.dept_id);
