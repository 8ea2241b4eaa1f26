-- Builds the sequence numbers with a recursive CTE that has no stopping condition.
WITH RECURSIVE counter(n) AS (
  SELECT 1
  UNION ALL
  SELECT n + 1 FROM counter
)
SELECT p.customer_id, p.payment_id, p.paid_at, p.amount,
       (SELECT COUNT(*) FROM counter), 0
FROM payments p;
