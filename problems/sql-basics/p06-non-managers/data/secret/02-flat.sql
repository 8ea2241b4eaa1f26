-- Nobody has a manager (every manager_id is NULL), so everybody is listed.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Mori',   1,    NULL, 400000, '2010-04-01'),
  (2, 'Nakano', NULL, NULL, 380000, '2011-04-01'),
  (3, 'Ogawa',  1,    NULL, 360000, '2012-04-01');
