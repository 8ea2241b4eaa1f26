-- Filters in a derived table and sorts outside it, with a product_id tie-breaker.
SELECT p.name, p.category, p.price
FROM (SELECT * FROM products WHERE NOT stock <= 0) AS p
ORDER BY p.category ASC, p.price DESC, p.product_id DESC;
