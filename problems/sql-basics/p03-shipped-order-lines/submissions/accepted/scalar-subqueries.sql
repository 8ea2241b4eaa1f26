-- Looks names up with scalar subqueries and filters orders with IN.
SELECT oi.order_id,
       (SELECT c.name FROM customers c
         WHERE c.customer_id = (SELECT o.customer_id FROM orders o WHERE o.order_id = oi.order_id)),
       (SELECT p.name FROM products p WHERE p.product_id = oi.product_id),
       oi.quantity,
       oi.quantity * oi.unit_price * 1.0
FROM order_items oi
WHERE oi.order_id IN (SELECT order_id FROM orders WHERE status = 'shipped');
