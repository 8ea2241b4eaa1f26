-- Averages unit_price over lines, ignoring how many units each line sold.
WITH sold AS (
  SELECT p.category, p.product_id, p.name, SUM(oi.quantity) AS qty, AVG(oi.unit_price) AS avg_price
  FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
  WHERE o.status <> 'cancelled'
  GROUP BY p.product_id
), ranked AS (
  SELECT sold.*, RANK() OVER (PARTITION BY category ORDER BY qty DESC) AS rnk FROM sold
)
SELECT category, rnk, product_id, name, qty, ROUND(avg_price, 2)
FROM ranked WHERE rnk <= 3 ORDER BY category, rnk;
