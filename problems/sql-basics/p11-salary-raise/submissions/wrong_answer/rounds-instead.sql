-- Rounds to the nearest yen instead of truncating.
UPDATE employees
SET salary = ROUND(salary * 1.1)
WHERE salary < 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka');
