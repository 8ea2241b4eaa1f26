-- 60 customers and 2,000 payments; payments n and n + 1500 belong to the same customer
-- and share their paid_at, so there are 500 ties.
INSERT INTO customers (customer_id, name)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 60)
SELECT n, 'Customer ' || n FROM seq;
INSERT INTO payments (payment_id, customer_id, paid_at, amount)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 2000)
SELECT n, 1 + (n * 17) % 60,
       datetime('2024-01-01', '+' || ((n * 7919) % 1500) || ' hours'),
       100 * (1 + (n * 31) % 200)
FROM seq;
