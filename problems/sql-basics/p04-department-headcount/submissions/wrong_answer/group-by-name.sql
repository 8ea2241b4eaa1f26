-- Groups by department name only, merging two departments that share a name.
SELECT MIN(d.dept_id), d.name, COUNT(e.emp_id)
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id AND e.salary >= 300000
GROUP BY d.name;
