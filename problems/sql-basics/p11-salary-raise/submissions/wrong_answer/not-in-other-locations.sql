-- "Not in a non-Osaka department" also matches departments whose location is NULL.
UPDATE employees
SET salary = salary * 11 / 10
WHERE salary < 300000
  AND dept_id NOT IN (SELECT dept_id FROM departments WHERE location <> 'Osaka');
