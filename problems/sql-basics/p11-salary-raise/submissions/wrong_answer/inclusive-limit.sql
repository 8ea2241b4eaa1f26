-- Uses <= 300000, so an employee earning exactly 300,000 yen also gets the raise.
UPDATE employees
SET salary = salary * 11 / 10
WHERE salary <= 300000
  AND dept_id IN (SELECT dept_id FROM departments WHERE location = 'Osaka');
