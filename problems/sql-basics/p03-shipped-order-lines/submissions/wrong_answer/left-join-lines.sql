-- LEFT JOIN to order_items adds a row of NULLs for a shipped order that has no lines.
SELECT o.order_id, c.name, p.name, oi.quantity, oi.quantity * oi.unit_price
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
LEFT JOIN order_items AS oi ON oi.order_id = o.order_id
LEFT JOIN products AS p ON p.product_id = oi.product_id
WHERE o.status = 'shipped';
