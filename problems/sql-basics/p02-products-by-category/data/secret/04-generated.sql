-- 1,500 products in five categories; prices repeat, so many (category, price) ties.
INSERT INTO products (product_id, name, category, price, stock)
WITH RECURSIVE seq(n) AS (
  SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1500
)
SELECT n,
       'Product ' || n,
       CASE n % 5 WHEN 0 THEN 'books' WHEN 1 THEN 'food' WHEN 2 THEN 'games'
                  WHEN 3 THEN 'stationery' ELSE 'toys' END,
       100 * (1 + (n * 7919) % 97),
       (n * 31) % 11
FROM seq;
