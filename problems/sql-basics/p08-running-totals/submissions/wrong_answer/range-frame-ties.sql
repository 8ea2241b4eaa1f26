-- Orders the SUM window by paid_at only: the default RANGE frame gives tied payments the same total.
SELECT customer_id, payment_id, paid_at, amount,
       ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY paid_at, payment_id),
       SUM(amount) OVER (PARTITION BY customer_id ORDER BY paid_at)
FROM payments;
