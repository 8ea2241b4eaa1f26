-- Totals orders with lines and orders without lines separately and combines them with UNION ALL.
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total)
SELECT o.order_id, o.customer_id, o.ordered_at, SUM(i.quantity * i.unit_price)
FROM orders o JOIN order_items i ON i.order_id = o.order_id
WHERE o.status = 'cancelled' AND strftime('%Y', o.ordered_at) < '2025'
GROUP BY o.order_id
UNION ALL
SELECT o.order_id, o.customer_id, o.ordered_at, 0
FROM orders o
WHERE o.status = 'cancelled' AND strftime('%Y', o.ordered_at) < '2025'
  AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.order_id);
DELETE FROM order_items
WHERE order_id IN (SELECT order_id FROM orders
                   WHERE status = 'cancelled' AND strftime('%Y', ordered_at) < '2025');
DELETE FROM orders WHERE status = 'cancelled' AND strftime('%Y', ordered_at) < '2025';
