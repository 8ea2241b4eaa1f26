-- Forgets to exclude cancelled orders.
SELECT p.category, COUNT(DISTINCT o.customer_id), SUM(oi.quantity)
FROM order_items oi
JOIN orders o ON o.order_id = oi.order_id
JOIN products p ON p.product_id = oi.product_id
GROUP BY p.category
HAVING COUNT(DISTINCT o.customer_id) >= 3;
