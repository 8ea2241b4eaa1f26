WITH RECURSIVE months(k, month) AS (
  SELECT 0, strftime('%Y-%m', 'now', 'start of month', '-5 months')
  UNION ALL
  SELECT k + 1, strftime('%Y-%m', 'now', 'start of month', '-' || (4 - k) || ' months')
  FROM months WHERE k < 5
)
SELECT m.month, COUNT(p.payment_id), COALESCE(SUM(p.amount), 0)
FROM months AS m
LEFT JOIN payments AS p ON strftime('%Y-%m', p.paid_at) = m.month
GROUP BY m.month
ORDER BY m.month;
