-- Negates the opposite condition instead of stating it directly.
SELECT emp_id, name, salary
FROM employees
WHERE NOT (salary < 400000 OR hire_date >= '2020-01-01');
