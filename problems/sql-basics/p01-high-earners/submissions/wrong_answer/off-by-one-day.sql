-- Stops one day early: employees hired on 2019-12-31 are missing.
SELECT emp_id, name, salary
FROM employees
WHERE salary >= 400000 AND hire_date < '2019-12-31';
