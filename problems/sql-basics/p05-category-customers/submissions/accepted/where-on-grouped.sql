-- Filters the grouped result with an outer WHERE instead of HAVING; quantity via TOTAL() (REAL).
SELECT category, n_customers, total_qty
FROM (
  SELECT p.category, COUNT(DISTINCT o.customer_id) AS n_customers, TOTAL(oi.quantity) AS total_qty
  FROM products p
  JOIN order_items oi ON oi.product_id = p.product_id
  JOIN orders o ON o.order_id = oi.order_id AND o.status IS NOT 'cancelled'
  GROUP BY p.category
)
WHERE n_customers >= 3.0;
