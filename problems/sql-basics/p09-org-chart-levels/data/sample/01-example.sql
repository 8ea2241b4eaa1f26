INSERT INTO departments (dept_id, name, location) VALUES (1, 'Head office', 'Tokyo');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  1, NULL, 900000, '2000-04-01'),
  (2, 'Baba',  1, 1,    600000, '2005-04-01'),
  (3, 'Chiba', 1, 1,    580000, '2006-04-01'),
  (4, 'Doi',   1, 2,    400000, '2012-04-01'),
  (5, 'Endo',  1, 4,    300000, '2020-04-01');
