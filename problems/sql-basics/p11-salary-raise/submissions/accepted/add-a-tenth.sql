-- salary + salary / 10 with integer division equals floor(salary * 1.1).
UPDATE employees
SET salary = salary + salary / 10
WHERE salary <= 299999
  AND dept_id IN (SELECT d.dept_id FROM departments AS d WHERE d.location IN ('Osaka'));
