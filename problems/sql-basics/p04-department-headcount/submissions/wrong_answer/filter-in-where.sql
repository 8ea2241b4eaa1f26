-- LEFT JOIN, but the salary filter in WHERE removes the NULL rows and turns it into an inner join.
SELECT d.dept_id, d.name, COUNT(e.emp_id)
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id
WHERE e.salary >= 300000
GROUP BY d.dept_id, d.name;
