-- Compares with the average of the whole company instead of the department.
SELECT emp_id, name, dept_id, salary
FROM employees
WHERE dept_id IS NOT NULL
  AND salary > (SELECT AVG(salary) FROM employees);
