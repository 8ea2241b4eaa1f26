-- 100 customers, 40 products, 1,000 orders (a quarter of them without lines), about 1,500 lines.
INSERT INTO customers (customer_id, name, city)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 100)
SELECT n, 'Customer ' || (n % 90),
       CASE n % 5 WHEN 0 THEN NULL WHEN 1 THEN 'Tokyo' WHEN 2 THEN 'Osaka'
                  WHEN 3 THEN 'Nagoya' ELSE 'Fukuoka' END
FROM seq;
INSERT INTO products (product_id, name, category, price)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 40)
SELECT n, 'Product ' || n,
       CASE n % 5 WHEN 0 THEN 'books' WHEN 1 THEN 'food' WHEN 2 THEN 'games'
                  WHEN 3 THEN 'stationery' ELSE 'toys' END,
       100 * (5 + (n * 37) % 60)
FROM seq;
INSERT INTO orders (order_id, customer_id, ordered_at, status)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000)
SELECT n, 1 + (n * 7) % 100,
       datetime('2024-01-01', '+' || ((n * 7919) % 525600) || ' minutes'),
       CASE WHEN n % 7 = 0 THEN 'cancelled' WHEN n % 3 = 0 THEN 'pending' ELSE 'shipped' END
FROM seq;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000),
lines(n, j) AS (
  SELECT n, 1 FROM seq WHERE n % 4 > 0
  UNION ALL
  SELECT n, j + 1 FROM lines WHERE j < n % 4
)
SELECT l.n, p.product_id, 1 + (l.n + l.j) % 5,
       CASE WHEN (l.n + l.j) % 3 = 0 THEN p.price * 9 / 10 ELSE p.price END
FROM lines AS l
JOIN products AS p ON p.product_id = 1 + (l.n * 13 + l.j * 7) % 40;
