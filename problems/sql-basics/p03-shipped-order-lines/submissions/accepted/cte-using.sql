-- Picks shipped orders in a CTE and joins with USING.
WITH shipped AS (
  SELECT order_id, customer_id FROM orders WHERE status = 'shipped'
)
SELECT order_id, customers.name, products.name, quantity, quantity * unit_price
FROM shipped
JOIN order_items USING (order_id)
JOIN customers USING (customer_id)
JOIN products USING (product_id);
