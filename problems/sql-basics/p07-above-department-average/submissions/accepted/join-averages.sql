-- Joins a derived table of department averages.
SELECT e.emp_id, e.name, e.dept_id, e.salary
FROM employees e
JOIN (SELECT dept_id, AVG(salary) AS avg_salary
      FROM employees WHERE dept_id IS NOT NULL GROUP BY dept_id) a
  ON a.dept_id = e.dept_id
WHERE e.salary > a.avg_salary;
