-- Right rows but no ORDER BY, so they come in storage order.
SELECT name, category, price
FROM products
WHERE stock > 0;
