-- 30 departments (locations cycle through five values, one of them NULL) and 1,500 employees.
INSERT INTO departments (dept_id, name, location)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 30)
SELECT n, 'Dept ' || n,
       CASE n % 5 WHEN 0 THEN 'Tokyo' WHEN 1 THEN 'Osaka' WHEN 2 THEN 'Nagoya'
                  WHEN 3 THEN 'Fukuoka' ELSE NULL END
FROM seq;
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500)
SELECT n, 'Employee ' || n,
       CASE WHEN n % 23 = 0 THEN NULL ELSE 1 + n % 30 END,
       CASE WHEN n = 1 THEN NULL ELSE n / 2 END,
       CASE WHEN n % 50 = 0 THEN 300000 ELSE 150000 + (n * 7919) % 250001 END,
       date('2000-01-01', '+' || ((n * 104729) % 9000) || ' days')
FROM seq;
