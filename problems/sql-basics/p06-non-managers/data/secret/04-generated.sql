-- 12 departments and 1,500 employees in a tree with three top-level employees.
INSERT INTO departments (dept_id, name, location)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 12)
SELECT n, 'Dept ' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE 'City ' || (n % 4) END
FROM seq;
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500)
SELECT n, 'Employee ' || n,
       CASE WHEN n % 11 = 0 THEN NULL ELSE 1 + (n * 5) % 12 END,
       CASE WHEN n <= 3 THEN NULL ELSE n / 3 END,
       200000 + ((n * 7919) % 500) * 1000,
       date('2000-01-01', '+' || ((n * 104729) % 9000) || ' days')
FROM seq;
