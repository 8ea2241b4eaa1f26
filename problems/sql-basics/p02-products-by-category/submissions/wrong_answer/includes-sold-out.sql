-- Uses stock >= 0, so sold-out products are listed too.
SELECT name, category, price
FROM products
WHERE stock >= 0
ORDER BY category, price DESC;
