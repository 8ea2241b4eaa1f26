-- Builds the non-cancelled lines in a CTE with IN (...) and filters with HAVING ... > 2.
WITH lines AS (
  SELECT p.category AS cat, o.customer_id AS cust, oi.quantity AS qty
  FROM orders o
  JOIN order_items oi ON oi.order_id = o.order_id
  JOIN products p ON p.product_id = oi.product_id
  WHERE o.status IN ('pending', 'shipped')
)
SELECT cat, COUNT(DISTINCT cust) AS customers, SUM(qty) AS quantity
FROM lines
GROUP BY cat
HAVING COUNT(DISTINCT cust) > 2;
