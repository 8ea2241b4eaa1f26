-- 10 departments and 1,500 employees in three trees (employees 1, 2 and 3 have no manager);
-- employee n reports to n / 3, so the deepest level is 6.
INSERT INTO departments (dept_id, name, location)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10)
SELECT n, 'Dept ' || n, 'City ' || (n % 3) FROM seq;
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500)
SELECT n, 'Employee ' || n,
       1 + n % 10,
       CASE WHEN n <= 3 THEN NULL ELSE n / 3 END,
       200000 + ((n * 7919) % 500) * 1000,
       date('2000-01-01', '+' || ((n * 104729) % 9000) || ' days')
FROM seq;
