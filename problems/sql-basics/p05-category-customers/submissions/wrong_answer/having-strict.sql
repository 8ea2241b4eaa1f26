-- HAVING ... > 3 drops categories bought by exactly 3 customers.
SELECT p.category, COUNT(DISTINCT o.customer_id), SUM(oi.quantity)
FROM order_items oi
JOIN orders o ON o.order_id = oi.order_id
JOIN products p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled'
GROUP BY p.category
HAVING COUNT(DISTINCT o.customer_id) > 3;
