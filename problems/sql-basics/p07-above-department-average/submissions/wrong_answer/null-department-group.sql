-- Matches departments with IS, which treats "no department" as one more department.
SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees e
WHERE e.salary > (SELECT AVG(x.salary) FROM employees x WHERE x.dept_id IS e.dept_id);
