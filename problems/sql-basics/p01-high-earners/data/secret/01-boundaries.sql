-- Salaries and hire dates right at both boundaries.
INSERT INTO employees (emp_id, name, dept_id, salary, hire_date) VALUES
  (1,  'Aoki',     1, 400000, '2019-12-31'),  -- both limits met exactly: listed
  (2,  'Baba',     1, 399999, '2010-04-01'),  -- one yen short
  (3,  'Chiba',    2, 500000, '2020-01-01'),  -- hired on the cut-off day: not listed
  (4,  'Doi',      2, 400001, '2020-01-02'),
  (5,  'Endo',  NULL, 400000, '2019-12-30'),  -- no department, still listed
  (6,  'Fujii',    3, 750000, '2020-06-01'),  -- same year as the cut-off, later date
  (7,  'Goto',     3, 300000, '2005-04-01'),  -- long-serving but below the salary limit
  (8,  'Hara',     1, 450000, '2019-12-31'),
  (9,  'Ito',      2, 800000, '2023-04-01'),
  (10, 'Kato',     3, 400000, '2000-01-01');
