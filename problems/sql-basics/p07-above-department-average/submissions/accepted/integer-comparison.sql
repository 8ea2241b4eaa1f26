-- Avoids division: salary * count > sum, all in integers.
SELECT e.emp_id AS id, e.name, e.dept_id AS dept, e.salary * 1.0 AS pay
FROM employees e,
     (SELECT dept_id, SUM(salary) AS s, COUNT(*) AS c FROM employees GROUP BY dept_id) g
WHERE g.dept_id = e.dept_id AND e.salary * g.c > g.s;
