-- INNER JOIN drops departments without staff
SELECT d.name, COUNT(*) FROM dept d JOIN emp e ON e.dept_id = d.id GROUP BY d.id;
