SELECT name, category, price
FROM products
WHERE stock > 0
ORDER BY category, price DESC;
