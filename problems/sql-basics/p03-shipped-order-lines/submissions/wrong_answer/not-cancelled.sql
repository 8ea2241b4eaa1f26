-- Reads "shipped" as "not cancelled", so pending orders are included.
SELECT o.order_id, c.name, p.name, oi.quantity, oi.quantity * oi.unit_price
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
JOIN order_items AS oi ON oi.order_id = o.order_id
JOIN products AS p ON p.product_id = oi.product_id
WHERE o.status <> 'cancelled';
