-- Self-join to all earlier-or-same payments of the customer, then group; TOTAL gives REAL sums.
SELECT p.customer_id, p.payment_id, p.paid_at, p.amount, COUNT(*), TOTAL(q.amount)
FROM payments p
JOIN payments q
  ON q.customer_id = p.customer_id
 AND (q.paid_at < p.paid_at OR (q.paid_at = p.paid_at AND q.payment_id <= p.payment_id))
GROUP BY p.payment_id;
