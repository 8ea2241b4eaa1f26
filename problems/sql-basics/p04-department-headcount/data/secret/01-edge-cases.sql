-- Two departments called 'Sales', an empty department, a department where nobody reaches
-- 300,000 yen, salaries 300,000 and 299,999, employees without a department.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Sales', 'Osaka'),
  (3, 'Research', 'Tsukuba'),
  (4, 'Legal', 'Tokyo'),       -- no employees
  (5, 'Support', NULL);        -- only low salaries
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1,  'Aoki',  1,    NULL, 520000, '2010-04-01'),
  (2,  'Baba',  1,    1,    300000, '2016-04-01'),
  (3,  'Chiba', 1,    1,    299999, '2018-04-01'),
  (4,  'Doi',   2,    1,    310000, '2012-07-01'),
  (5,  'Endo',  2,    4,    280000, '2020-04-01'),
  (6,  'Fujii', 3,    1,    450000, '2011-04-01'),
  (7,  'Goto',  3,    6,    450000, '2014-04-01'),
  (8,  'Hara',  5,    1,    250000, '2022-04-01'),
  (9,  'Ito',   NULL, 1,    800000, '2005-04-01'),
  (10, 'Kato',  NULL, 1,    200000, '2023-04-01');
