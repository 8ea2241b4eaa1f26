SELECT customer_id, payment_id, paid_at, amount,
       ROW_NUMBER() OVER w,
       SUM(amount) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
FROM payments
WINDOW w AS (PARTITION BY customer_id ORDER BY paid_at, payment_id);
