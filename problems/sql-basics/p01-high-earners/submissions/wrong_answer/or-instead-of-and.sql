-- Joins the two conditions with OR instead of AND.
SELECT emp_id, name, salary
FROM employees
WHERE salary >= 400000 OR hire_date < '2020-01-01';
