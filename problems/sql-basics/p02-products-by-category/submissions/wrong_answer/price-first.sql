-- Sorts by price first and by category second.
SELECT name, category, price
FROM products
WHERE stock > 0
ORDER BY price DESC, category;
