-- Old-style comma joins with the join conditions in WHERE.
SELECT i.order_id, c.name AS customer, p.name AS product, i.quantity, i.unit_price * i.quantity AS amount
FROM order_items i, orders o, customers c, products p
WHERE o.order_id = i.order_id
  AND c.customer_id = o.customer_id
  AND p.product_id = i.product_id
  AND o.status = 'shipped';
