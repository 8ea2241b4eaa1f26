-- Multiplies by 1.1 without truncating, storing fractional salaries such as 329998.9.
UPDATE employees
SET salary = salary * 1.1
WHERE salary < 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka');
