-- CAST of salary * 1.1 truncates; EXISTS instead of IN.
UPDATE employees
SET salary = CAST(salary * 1.1 AS INTEGER)
WHERE salary < 300000
  AND EXISTS (SELECT 1 FROM departments d
              WHERE d.dept_id = employees.dept_id AND d.location = 'Osaka');
