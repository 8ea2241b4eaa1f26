-- Uses "six months back from today" instead of calendar months, so part of an extra month sneaks in.
SELECT strftime('%Y-%m', paid_at), COUNT(*), SUM(amount)
FROM payments
WHERE paid_at >= datetime('now', '-6 months')
GROUP BY 1
ORDER BY 1;
