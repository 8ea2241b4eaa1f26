-- LEFT JOIN all employees and add 1 or 0 with CASE (the NULL row of an empty department adds 0).
SELECT d.dept_id, d.name, SUM(CASE WHEN e.salary >= 300000 THEN 1 ELSE 0 END) AS cnt
FROM departments d
LEFT JOIN employees e ON e.dept_id = d.dept_id
GROUP BY d.dept_id;
