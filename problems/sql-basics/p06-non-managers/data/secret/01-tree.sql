-- A three-level tree; leaves with and without a department; a manager without a department;
-- an empty department.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Research', 'Osaka'),
  (3, 'Legal', NULL);
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1,  'Aoki',  1,    NULL, 900000, '2001-04-01'),
  (2,  'Baba',  1,    1,    600000, '2008-04-01'),
  (3,  'Chiba', NULL, 1,    580000, '2009-04-01'),   -- manages 6 and 7, no department
  (4,  'Doi',   1,    2,    350000, '2016-04-01'),
  (5,  'Endo',  NULL, 2,    330000, '2017-04-01'),
  (6,  'Fujii', 2,    3,    320000, '2018-04-01'),
  (7,  'Goto',  NULL, 3,    300000, '2019-04-01'),
  (8,  'Hara',  NULL, 1,    280000, '2021-04-01'),
  (9,  'Ito',   2,    6,    250000, '2024-04-01');
