-- Scalar subquery with IFNULL for the total; EXISTS for deleting the lines.
INSERT INTO archived_orders
SELECT order_id, customer_id, ordered_at,
       IFNULL((SELECT SUM(quantity * unit_price) FROM order_items i WHERE i.order_id = o.order_id), 0)
FROM orders o
WHERE status = 'cancelled' AND ordered_at < '2025';
DELETE FROM order_items
WHERE EXISTS (SELECT 1 FROM orders o
              WHERE o.order_id = order_items.order_id
                AND o.status = 'cancelled' AND o.ordered_at < '2025');
DELETE FROM orders WHERE status = 'cancelled' AND ordered_at < '2025';
