-- Filters on RANK() directly in WHERE, which is a misuse of a window function.
SELECT p.category, RANK() OVER (PARTITION BY p.category ORDER BY SUM(oi.quantity) DESC),
       p.product_id, p.name, SUM(oi.quantity),
       ROUND(SUM(oi.quantity * oi.unit_price) * 1.0 / SUM(oi.quantity), 2)
FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
  AND RANK() OVER (PARTITION BY p.category ORDER BY oi.quantity DESC) <= 3
GROUP BY p.product_id
ORDER BY 1, 2;
