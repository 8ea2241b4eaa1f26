-- Orders by payment_id only, assuming ids follow time order.
SELECT customer_id, payment_id, paid_at, amount,
       ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY payment_id),
       SUM(amount) OVER (PARTITION BY customer_id ORDER BY payment_id)
FROM payments;
