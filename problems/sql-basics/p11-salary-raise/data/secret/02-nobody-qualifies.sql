-- The only Osaka department pays everyone 300,000 yen or more: nothing changes.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Osaka'),
  (2, 'Research', 'Tokyo'),
  (3, 'Plant', NULL);
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Mori',   1,    NULL, 300000, '2010-04-01'),
  (2, 'Nakano', 1,    1,    450000, '2011-04-01'),
  (3, 'Ogawa',  2,    1,    200000, '2012-04-01'),
  (4, 'Saito',  3,    1,    150000, '2013-04-01'),
  (5, 'Ueda',   NULL, 1,    100000, '2014-04-01');
