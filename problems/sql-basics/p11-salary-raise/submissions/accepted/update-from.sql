-- UPDATE ... FROM joins departments directly (SQLite 3.33 or later).
UPDATE employees
SET salary = salary * 11 / 10
FROM departments AS d
WHERE d.dept_id = employees.dept_id
  AND d.location = 'Osaka'
  AND employees.salary < 300000;
