-- Aggregates the payments in the window first, then outer-joins them to the month list.
WITH RECURSIVE months(n, ym) AS (
  SELECT 1, strftime('%Y-%m', 'now', 'start of month', '-5 months')
  UNION ALL
  SELECT n + 1, strftime('%Y-%m', 'now', 'start of month', '-' || (5 - n) || ' months')
  FROM months WHERE n < 6
),
agg AS (
  SELECT strftime('%Y-%m', paid_at) AS ym, COUNT(*) AS c, SUM(amount) AS s
  FROM payments
  WHERE paid_at >= datetime('now', 'start of month', '-5 months')
  GROUP BY 1
)
SELECT months.ym, COALESCE(agg.c, 0), COALESCE(agg.s, 0)
FROM months LEFT JOIN agg ON agg.ym = months.ym
ORDER BY months.n;
