SELECT p.category, COUNT(DISTINCT o.customer_id), SUM(oi.quantity)
FROM order_items AS oi
JOIN orders AS o ON o.order_id = oi.order_id
JOIN products AS p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
GROUP BY p.category
HAVING COUNT(DISTINCT o.customer_id) >= 3;
