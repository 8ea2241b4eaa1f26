-- DENSE_RANK does not skip after ties, so a product in fourth place gets rank 3.
WITH sold AS (
  SELECT p.category, p.product_id, p.name, SUM(oi.quantity) AS qty, SUM(oi.quantity * oi.unit_price) AS amount
  FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
  WHERE o.status <> 'cancelled'
  GROUP BY p.product_id
), ranked AS (
  SELECT sold.*, DENSE_RANK() OVER (PARTITION BY category ORDER BY qty DESC) AS rnk FROM sold
)
SELECT category, rnk, product_id, name, qty, ROUND(CAST(amount AS REAL) / qty, 2)
FROM ranked WHERE rnk <= 3 ORDER BY category, rnk;
