-- 30 departments and 1,500 employees; department averages differ widely.
INSERT INTO departments (dept_id, name, location)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 30)
SELECT n, 'Dept ' || n, 'City ' || (n % 6) FROM seq;
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500)
SELECT n, 'Employee ' || n,
       CASE WHEN n % 19 = 0 THEN NULL ELSE 1 + n % 30 END,
       CASE WHEN n = 1 THEN NULL ELSE n / 2 END,
       150000 + (n % 30) * 12000 + ((n * 7919) % 300) * 1000,
       date('2000-01-01', '+' || ((n * 104729) % 9000) || ' days')
FROM seq;
