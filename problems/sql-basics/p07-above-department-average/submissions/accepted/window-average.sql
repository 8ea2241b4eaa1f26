-- Computes the average with a window function in a CTE.
WITH w AS (
  SELECT emp_id, name, dept_id, salary,
         AVG(salary) OVER (PARTITION BY dept_id) AS dept_avg
  FROM employees
)
SELECT emp_id, name, dept_id, salary
FROM w
WHERE dept_id IS NOT NULL AND salary > dept_avg;
