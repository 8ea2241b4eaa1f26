-- RANK by paid_at gives tied payments the same sequence number.
SELECT customer_id, payment_id, paid_at, amount,
       RANK() OVER (PARTITION BY customer_id ORDER BY paid_at),
       SUM(amount) OVER (PARTITION BY customer_id ORDER BY paid_at, payment_id)
FROM payments;
