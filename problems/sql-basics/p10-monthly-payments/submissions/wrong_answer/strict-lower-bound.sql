-- Uses > for the start of each month, losing payments made exactly at midnight on the 1st.
WITH RECURSIVE m(start) AS (
  SELECT datetime('now', 'start of month', '-5 months')
  UNION ALL
  SELECT datetime(start, '+1 month') FROM m WHERE start < datetime('now', 'start of month')
)
SELECT substr(start, 1, 7), COUNT(p.payment_id), COALESCE(SUM(p.amount), 0)
FROM m LEFT JOIN payments p
  ON p.paid_at > m.start AND p.paid_at < datetime(m.start, '+1 month')
GROUP BY start ORDER BY start;
