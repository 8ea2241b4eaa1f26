-- Uses > instead of >=, so employees earning exactly 400,000 yen are missing.
SELECT emp_id, name, salary
FROM employees
WHERE salary > 400000 AND hire_date < '2020-01-01';
