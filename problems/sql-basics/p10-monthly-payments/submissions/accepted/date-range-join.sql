-- Generates month starts as dates and joins on a half-open date range.
WITH RECURSIVE m(start) AS (
  SELECT date('now', 'start of month', '-5 months')
  UNION ALL
  SELECT date(start, '+1 month') FROM m WHERE start < date('now', 'start of month')
)
SELECT substr(m.start, 1, 7) AS ym,
       COUNT(p.amount) AS payments,
       IFNULL(SUM(p.amount), 0) AS total
FROM m
LEFT JOIN payments p
  ON p.paid_at >= m.start AND p.paid_at < date(m.start, '+1 month')
GROUP BY m.start
ORDER BY m.start;
