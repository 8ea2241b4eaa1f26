-- Sorts by -price and breaks ties by name, which the statement allows.
SELECT name, category, price
FROM products
WHERE stock <> 0
ORDER BY category, -price, name;
