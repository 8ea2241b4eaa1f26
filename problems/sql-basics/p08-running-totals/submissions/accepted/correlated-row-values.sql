-- No window functions: counts and sums earlier payments with a row-value comparison.
SELECT p.customer_id, p.payment_id, p.paid_at, p.amount,
       (SELECT COUNT(*) FROM payments q
         WHERE q.customer_id = p.customer_id
           AND (q.paid_at, q.payment_id) <= (p.paid_at, p.payment_id)),
       (SELECT SUM(q.amount) FROM payments q
         WHERE q.customer_id = p.customer_id
           AND (q.paid_at, q.payment_id) <= (p.paid_at, p.payment_id))
FROM payments p;
