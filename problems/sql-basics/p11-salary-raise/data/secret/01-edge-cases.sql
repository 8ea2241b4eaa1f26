-- Salary exactly 300,000; fractions of .5 and .9 after the raise; a department whose location
-- is NULL; employees without a department; two Osaka departments, one of them empty.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Osaka'),
  (2, 'Support', 'Osaka'),
  (3, 'Research', 'Tokyo'),
  (4, 'Archive', NULL),
  (5, 'Branch', 'Osaka');    -- nobody works here
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (1,  'Aoki',  3,    NULL, 650000, '2008-04-01'),
  (2,  'Baba',  1,    1,    299999, '2016-04-01'),   -- 329998.9 -> 329998
  (3,  'Chiba', 1,    1,    300000, '2014-04-01'),   -- exactly 300,000: no raise
  (4,  'Doi',   2,    1,    250005, '2019-04-01'),   -- 275005.5 -> 275005
  (5,  'Endo',  2,    1,    180000, '2022-04-01'),   -- 198000
  (6,  'Fujii', 4,    1,    200000, '2018-04-01'),   -- location NULL: no raise
  (7,  'Goto',  NULL, 1,    210000, '2020-04-01'),   -- no department: no raise
  (8,  'Hara',  3,    1,    240000, '2021-04-01'),   -- Tokyo: no raise
  (9,  'Ito',   1,    2,    299991, '2017-04-01'),   -- 329990.1 -> 329990
  (10, 'Kato',  2,    4,    7,      '2024-04-01');   -- 7.7 -> 7
