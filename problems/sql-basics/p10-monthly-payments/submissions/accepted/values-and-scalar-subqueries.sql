-- Lists the six offsets with VALUES and uses scalar subqueries; TOTAL gives 0.0 for empty months.
WITH offs(o) AS (VALUES (5), (4), (3), (2), (1), (0)),
     mon(ym) AS (SELECT strftime('%Y-%m', date('now', 'start of month', '-' || o || ' months')) FROM offs)
SELECT ym,
       (SELECT COUNT(*) FROM payments WHERE substr(paid_at, 1, 7) = ym),
       (SELECT TOTAL(amount) FROM payments WHERE substr(paid_at, 1, 7) = ym)
FROM mon
ORDER BY 1 ASC;
