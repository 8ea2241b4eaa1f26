INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Research', 'Osaka');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  1, NULL, 600000, '2005-04-01'),
  (2, 'Baba',  1, 1,    300000, '2015-04-01'),
  (3, 'Chiba', 1, 1,    330000, '2018-04-01'),
  (4, 'Doi',   2, 1,    500000, '2010-04-01'),
  (5, 'Endo',  2, 4,    420000, '2019-04-01');
