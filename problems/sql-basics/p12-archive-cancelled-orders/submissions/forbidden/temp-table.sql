-- Stages the order ids in a temporary table: CREATE (DDL) is refused.
CREATE TEMP TABLE to_archive AS
  SELECT order_id FROM orders WHERE status = 'cancelled' AND ordered_at < '2025-01-01';
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total)
SELECT o.order_id, o.customer_id, o.ordered_at,
       (SELECT COALESCE(SUM(quantity * unit_price), 0) FROM order_items i WHERE i.order_id = o.order_id)
FROM orders o WHERE o.order_id IN (SELECT order_id FROM to_archive);
DELETE FROM order_items WHERE order_id IN (SELECT order_id FROM to_archive);
DELETE FROM orders WHERE order_id IN (SELECT order_id FROM to_archive);
