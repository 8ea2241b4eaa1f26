-- 2,000 employees generated with deterministic arithmetic.
INSERT INTO employees (emp_id, name, dept_id, salary, hire_date)
WITH RECURSIVE seq(n) AS (
  SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 2000
)
SELECT n,
       'Employee ' || n,
       CASE WHEN n % 13 = 0 THEN NULL ELSE 1 + n % 7 END,
       200000 + ((n * 7919) % 601) * 1000,
       date('2014-01-01', '+' || ((n * 104729) % 3650) || ' days')
FROM seq;
