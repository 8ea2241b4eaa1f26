-- INNER JOIN drops departments with no well-paid employee instead of showing 0.
SELECT d.dept_id, d.name, COUNT(*)
FROM departments d
JOIN employees e ON e.dept_id = d.dept_id
WHERE e.salary >= 300000
GROUP BY d.dept_id, d.name;
