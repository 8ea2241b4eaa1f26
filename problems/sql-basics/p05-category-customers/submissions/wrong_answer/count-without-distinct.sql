-- Counts order lines instead of different customers (missing DISTINCT).
SELECT p.category, COUNT(o.customer_id), SUM(oi.quantity)
FROM order_items oi
JOIN orders o ON o.order_id = oi.order_id
JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
GROUP BY p.category
HAVING COUNT(o.customer_id) >= 3;
