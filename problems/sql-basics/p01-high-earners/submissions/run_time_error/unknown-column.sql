-- Refers to a column monthly_salary that does not exist.
SELECT emp_id, name, monthly_salary
FROM employees
WHERE monthly_salary >= 400000 AND hire_date < '2020-01-01';
