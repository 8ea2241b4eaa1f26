-- Groups per (category, customer) first, then counts the groups per category.
SELECT category, COUNT(*), SUM(q)
FROM (
  SELECT p.category, o.customer_id, SUM(oi.quantity) AS q
  FROM order_items oi, orders o, products p
  WHERE oi.order_id = o.order_id AND oi.product_id = p.product_id
    AND NOT o.status = 'cancelled'
  GROUP BY p.category, o.customer_id
) AS per_customer
GROUP BY category
HAVING COUNT(*) >= 3;
