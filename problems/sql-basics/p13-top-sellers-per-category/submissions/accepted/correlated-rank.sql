-- Computes the rank as 1 + the number of products in the category that sold strictly more.
WITH totals AS (
  SELECT p.category AS cat, p.product_id AS pid, p.name AS pname,
         SUM(i.quantity) AS q, 1.0 * SUM(i.quantity * i.unit_price) / SUM(i.quantity) AS avg_price
  FROM products p
  JOIN order_items i ON i.product_id = p.product_id
  JOIN orders o ON o.order_id = i.order_id AND o.status IN ('pending', 'shipped')
  GROUP BY p.product_id, p.category, p.name
)
SELECT * FROM (
  SELECT t.cat,
         1 + (SELECT COUNT(*) FROM totals u WHERE u.cat = t.cat AND u.q > t.q) AS r,
         t.pid, t.pname, t.q, ROUND(t.avg_price, 2)
  FROM totals t
)
WHERE r <= 3
ORDER BY cat, r;
