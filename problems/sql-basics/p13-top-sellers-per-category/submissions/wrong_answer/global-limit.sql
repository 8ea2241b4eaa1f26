-- LIMIT 3 keeps three products overall instead of per category.
SELECT p.category, RANK() OVER (ORDER BY SUM(oi.quantity) DESC), p.product_id, p.name, SUM(oi.quantity),
       ROUND(SUM(oi.quantity * oi.unit_price) * 1.0 / SUM(oi.quantity), 2)
FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
GROUP BY p.product_id
ORDER BY SUM(oi.quantity) DESC
LIMIT 3;
