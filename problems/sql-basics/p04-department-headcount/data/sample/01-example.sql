INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Research', 'Tsukuba'),
  (3, 'Legal', 'Tokyo');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  1, NULL, 520000, '2010-04-01'),
  (2, 'Baba',  1, 1,    280000, '2019-04-01'),
  (3, 'Chiba', 2, 1,    450000, '2015-10-01'),
  (4, 'Doi',   2, 3,    310000, '2021-04-01');
