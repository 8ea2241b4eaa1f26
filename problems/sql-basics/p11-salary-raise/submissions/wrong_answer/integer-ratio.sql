-- 11 / 10 is integer division and equals 1, so nobody's salary changes.
UPDATE employees
SET salary = salary * (11 / 10)
WHERE salary < 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka');
