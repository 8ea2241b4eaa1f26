SELECT d.name, COUNT(e.id) AS staff
FROM dept d LEFT JOIN emp e ON e.dept_id = d.id
GROUP BY d.id;
