-- Forgets PARTITION BY, so numbers and totals run over all customers together.
SELECT customer_id, payment_id, paid_at, amount,
       ROW_NUMBER() OVER (ORDER BY paid_at, payment_id),
       SUM(amount) OVER (ORDER BY paid_at, payment_id)
FROM payments;
