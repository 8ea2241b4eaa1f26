-- 1,500 payments spread from 2024-01-01 to 2025-04-14; every month has payments.
INSERT INTO payments (payment_id, customer_id, paid_at, amount)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500)
SELECT n, 1 + (n * 13) % 80,
       datetime('2024-01-01', '+' || ((n * 7919) % 676800) || ' minutes'),
       100 * (1 + (n * 31) % 150)
FROM seq;
