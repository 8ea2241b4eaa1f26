-- Sorts by quantity descending inside a category, which gives the same order as rank ascending.
SELECT category, rk, product_id, name, qty, ROUND(amount * 1.0 / qty, 2) AS avg_unit_price
FROM (
  SELECT p.category, p.product_id, p.name, SUM(oi.quantity) AS qty,
         SUM(oi.quantity * oi.unit_price) AS amount,
         RANK() OVER (PARTITION BY p.category ORDER BY SUM(oi.quantity) DESC) AS rk
  FROM products p, order_items oi, orders o
  WHERE oi.product_id = p.product_id AND o.order_id = oi.order_id AND NOT o.status = 'cancelled'
  GROUP BY p.product_id
)
WHERE rk < 4
ORDER BY category ASC, qty DESC, name;
