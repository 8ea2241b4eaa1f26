-- Two UPDATE statements: even-numbered Osaka departments first, then odd-numbered ones.
UPDATE employees
SET salary = salary * 11 / 10
WHERE salary < 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka' AND dept_id % 2 = 0);
UPDATE employees
SET salary = salary * 11 / 10
WHERE salary < 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka' AND dept_id % 2 = 1);
