-- Every employee fails exactly one of the two conditions: the answer is empty.
INSERT INTO employees (emp_id, name, dept_id, salary, hire_date) VALUES
  (1, 'Mori',     1, 900000, '2020-01-01'),
  (2, 'Nakano',   1, 399999, '2019-12-31'),
  (3, 'Ogawa', NULL, 650000, '2024-02-29'),
  (4, 'Saito',    2, 120000, '1999-04-01');
