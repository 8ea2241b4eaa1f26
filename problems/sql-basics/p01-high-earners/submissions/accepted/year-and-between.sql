-- Uses strftime on the year, BETWEEN with a huge upper bound, and returns the salary as REAL.
SELECT emp_id, name, salary * 1.0
FROM employees
WHERE CAST(strftime('%Y', hire_date) AS INTEGER) <= 2019
  AND salary BETWEEN 400000 AND 1000000000;
