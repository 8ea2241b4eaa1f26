-- A salary equal to its department average, a one-person department, an empty department,
-- well-paid employees without a department; company and department averages differ.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Research', 'Osaka'),
  (3, 'Legal', 'Tokyo'),       -- one employee
  (4, 'Audit', NULL);          -- nobody
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1, 'Aoki',  1,    NULL, 500000, '2005-04-01'),
  (2, 'Baba',  1,    1,    400000, '2010-04-01'),   -- equals the Sales average
  (3, 'Chiba', 1,    1,    300000, '2015-04-01'),
  (4, 'Doi',   2,    1,    600000, '2008-04-01'),
  (5, 'Endo',  2,    4,    650000, '2007-04-01'),
  (6, 'Fujii', 3,    1,    350000, '2012-04-01'),   -- alone: equals its own average
  (7, 'Goto',  NULL, 1,    900000, '2003-04-01'),
  (8, 'Hara',  NULL, 1,    200000, '2022-04-01');
