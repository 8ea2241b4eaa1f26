-- Compares with the shorter string '2020' (every 2020 date sorts after it) and with 400000.0.
SELECT e.emp_id AS id, e.name AS employee, e.salary AS monthly
FROM employees AS e
WHERE e.hire_date < '2020' AND e.salary >= 400000.0;
