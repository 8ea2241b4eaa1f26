-- Ranks with a self-join on the per-product totals and HAVING, then rounds with ROUND(x * 100) / 100.
WITH t AS (
  SELECT p.category, p.product_id, p.name, SUM(oi.quantity) AS qty,
         SUM(oi.quantity * oi.unit_price) AS amount
  FROM order_items oi
  JOIN orders o USING (order_id)
  JOIN products p USING (product_id)
  WHERE o.status != 'cancelled'
  GROUP BY p.product_id
)
SELECT a.category, COUNT(b.product_id) + 1 AS rnk, a.product_id, a.name, a.qty,
       ROUND(a.amount * 100.0 / a.qty) / 100
FROM t a
LEFT JOIN t b ON b.category = a.category AND b.qty > a.qty
GROUP BY a.product_id
HAVING COUNT(b.product_id) + 1 <= 3
ORDER BY a.category, rnk;
