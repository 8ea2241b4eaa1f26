-- Groups the payments themselves, so a month without payments is missing.
SELECT strftime('%Y-%m', paid_at), COUNT(*), SUM(amount)
FROM payments
WHERE paid_at >= datetime('now', 'start of month', '-5 months')
GROUP BY 1
ORDER BY 1;
