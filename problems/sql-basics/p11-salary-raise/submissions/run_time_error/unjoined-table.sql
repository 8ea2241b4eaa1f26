-- Refers to departments.location without bringing departments into the statement.
UPDATE employees
SET salary = salary * 11 / 10
WHERE salary < 300000 AND departments.location = 'Osaka';
