-- Puts the aggregate condition in WHERE instead of HAVING (misuse of aggregate).
SELECT p.category, COUNT(DISTINCT o.customer_id), SUM(oi.quantity)
FROM order_items oi
JOIN orders o ON o.order_id = oi.order_id
JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled' AND COUNT(DISTINCT o.customer_id) >= 3
GROUP BY p.category;
