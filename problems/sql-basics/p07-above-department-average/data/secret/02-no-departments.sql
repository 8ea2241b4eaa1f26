-- Nobody belongs to a department: the answer is empty.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Mori',   NULL, NULL, 800000, '2001-04-01'),
  (2, 'Nakano', NULL, 1,    300000, '2011-04-01'),
  (3, 'Ogawa',  NULL, 1,    250000, '2021-04-01');
