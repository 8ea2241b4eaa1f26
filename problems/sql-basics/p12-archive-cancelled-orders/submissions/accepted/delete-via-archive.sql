-- After archiving, deletes whatever is listed in archived_orders (old archive ids are not in orders).
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total)
SELECT o.order_id, o.customer_id, o.ordered_at, TOTAL(oi.quantity * oi.unit_price)
FROM orders o LEFT JOIN order_items oi USING (order_id)
WHERE o.status = 'cancelled' AND date(o.ordered_at) <= '2024-12-31'
GROUP BY o.order_id;
DELETE FROM order_items WHERE order_id IN (SELECT order_id FROM archived_orders);
DELETE FROM orders WHERE order_id IN (SELECT order_id FROM archived_orders);
