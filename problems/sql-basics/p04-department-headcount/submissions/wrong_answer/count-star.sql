-- COUNT(*) counts the NULL row of the outer join, giving 1 instead of 0.
SELECT d.dept_id, d.name, COUNT(*)
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id AND e.salary >= 300000
GROUP BY d.dept_id, d.name;
