-- Compares with '2024-12-31', which leaves out every order placed on 31 December 2024.
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total)
SELECT o.order_id, o.customer_id, o.ordered_at, COALESCE(SUM(oi.quantity * oi.unit_price), 0)
FROM orders o LEFT JOIN order_items oi ON oi.order_id = o.order_id
WHERE o.status = 'cancelled' AND o.ordered_at < '2024-12-31'
GROUP BY o.order_id;
DELETE FROM order_items
WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'cancelled' AND ordered_at < '2024-12-31');
DELETE FROM orders WHERE status = 'cancelled' AND ordered_at < '2024-12-31';
