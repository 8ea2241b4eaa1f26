INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Research', 'Osaka');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  1,    NULL, 700000, '2005-04-01'),
  (2, 'Baba',  1,    1,    450000, '2012-04-01'),
  (3, 'Chiba', 2,    1,    420000, '2013-04-01'),
  (4, 'Doi',   1,    2,    300000, '2020-04-01'),
  (5, 'Endo',  NULL, 1,    260000, '2023-10-01');
