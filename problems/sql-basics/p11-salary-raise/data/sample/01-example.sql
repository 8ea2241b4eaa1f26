INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Osaka'),
  (2, 'Research', 'Tokyo');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  2, NULL, 650000, '2008-04-01'),
  (2, 'Baba',  1, 1,    299999, '2016-04-01'),
  (3, 'Chiba', 1, 1,    320000, '2014-04-01'),
  (4, 'Doi',   2, 1,    250000, '2021-04-01'),
  (5, 'Endo',  1, 2,    180000, '2023-04-01');
