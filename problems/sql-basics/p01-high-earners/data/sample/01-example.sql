INSERT INTO employees (emp_id, name, dept_id, salary, hire_date) VALUES
  (1, 'Aoki',  10, 520000, '2015-04-01'),
  (2, 'Baba',  10, 380000, '2012-10-01'),
  (3, 'Chiba', 20, 450000, '2021-07-15'),
  (4, 'Doi',   20, 400000, '2018-04-01'),
  (5, 'Endo',  NULL, 610000, '2019-12-31');
