-- Orders by column numbers and tests stock >= 1.
SELECT name AS product, category AS cat, price AS yen
FROM products
WHERE stock >= 1
ORDER BY 2 ASC, 3 DESC;
