-- Divides two integers, so the average unit price is truncated to whole yen.
WITH sold AS (
  SELECT p.category, p.product_id, p.name, SUM(oi.quantity) AS qty, SUM(oi.quantity * oi.unit_price) AS amount
  FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
  WHERE o.status <> 'cancelled'
  GROUP BY p.product_id
), ranked AS (
  SELECT sold.*, RANK() OVER (PARTITION BY category ORDER BY qty DESC) AS rnk FROM sold
)
SELECT category, rnk, product_id, name, qty, ROUND(amount / qty, 2)
FROM ranked WHERE rnk <= 3 ORDER BY category, rnk;
