-- Counts different orders instead of different customers.
SELECT p.category, COUNT(DISTINCT o.order_id), SUM(oi.quantity)
FROM order_items oi
JOIN orders o ON o.order_id = oi.order_id
JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
GROUP BY p.category
HAVING COUNT(DISTINCT o.order_id) >= 3;
