-- Default RANGE frame is fine here because (paid_at, payment_id) is unique within a customer.
SELECT customer_id, payment_id, paid_at, amount,
       ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY paid_at, payment_id) AS seq,
       SUM(amount) OVER (PARTITION BY customer_id ORDER BY paid_at, payment_id) AS running
FROM payments;
