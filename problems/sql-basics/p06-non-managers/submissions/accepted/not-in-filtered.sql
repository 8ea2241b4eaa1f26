-- NOT IN, made safe by removing NULLs from the subquery; IFNULL instead of COALESCE.
SELECT e.emp_id, e.name, IFNULL(d.name, '(none)') AS dept
FROM employees e
LEFT JOIN departments d ON e.dept_id = d.dept_id
WHERE e.emp_id NOT IN (SELECT manager_id FROM employees WHERE manager_id IS NOT NULL);
