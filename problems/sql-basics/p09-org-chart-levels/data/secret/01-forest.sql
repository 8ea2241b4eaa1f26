-- Three top-level employees (none of them with id 1), a chain seven levels deep,
-- managers whose ids are larger than their reports' ids.
INSERT INTO departments (dept_id, name, location) VALUES (1, 'Head office', 'Tokyo'), (2, 'Plant', 'Nagoya');
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (10, 'Aoki',   1,    NULL, 900000, '2000-04-01'),
  (20, 'Baba',   2,    NULL, 850000, '2001-04-01'),
  (30, 'Chiba',  NULL, NULL, 800000, '2002-04-01'),   -- alone
  (11, 'Doi',    1,    10,   700000, '2003-04-01'),
  (12, 'Endo',   1,    11,   650000, '2004-04-01'),
  (13, 'Fujii',  1,    12,   600000, '2005-04-01'),
  (14, 'Goto',   1,    13,   550000, '2006-04-01'),
  (15, 'Hara',   1,    14,   500000, '2007-04-01'),
  (16, 'Ito',    1,    15,   450000, '2008-04-01'),
  (17, 'Kato',   1,    16,   400000, '2009-04-01'),   -- level 7
  (21, 'Mori',   2,    20,   600000, '2010-04-01'),
  (22, 'Nakano', 2,    20,   580000, '2011-04-01'),
  (23, 'Ogawa',  2,    22,   500000, '2012-04-01'),
  (5,  'Saito',  2,    23,   300000, '2020-04-01'),   -- small id, level 3
  (6,  'Ueda',   NULL, 5,    250000, '2023-04-01');   -- level 4
