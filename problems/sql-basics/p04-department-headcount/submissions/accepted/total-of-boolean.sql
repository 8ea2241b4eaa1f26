-- TOTAL() of a boolean returns 0.0 for an empty department, which equals 0 numerically.
SELECT d.dept_id, d.name, TOTAL(e.salary >= 300000)
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id
GROUP BY d.dept_id, d.name;
