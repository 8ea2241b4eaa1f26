-- SUM of a boolean over the outer join gives NULL, not 0, for a department with no employees.
SELECT d.dept_id, d.name, SUM(e.salary >= 300000)
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id
GROUP BY d.dept_id, d.name;
