-- Cancelled orders at 2024-12-31 23:59:59 and 2025-01-01 00:00:00, a cancelled order without
-- lines, unit prices that differ from list prices, rows already in the archive.
INSERT INTO customers (customer_id, name, city) VALUES (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Pen', 'stationery', 150), (2, 'Puzzle', 'games', 2000), (3, 'Cookies', 'food', 500);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (10, 1, '2024-03-05 10:00:00', 'cancelled'),
  (11, 2, '2024-12-31 23:59:59', 'cancelled'),   -- last second of 2024: archived
  (12, 1, '2025-01-01 00:00:00', 'cancelled'),   -- first second of 2025: kept
  (13, 2, '2024-06-01 09:00:00', 'cancelled'),   -- no lines: total 0
  (14, 1, '2024-07-07 07:07:07', 'shipped'),
  (15, 2, '2024-08-08 08:08:08', 'pending');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (10, 1, 2, 150), (10, 2, 1, 1800),
  (11, 3, 4, 500),
  (12, 1, 1, 150), (12, 3, 2, 450),
  (14, 2, 1, 2000), (14, 1, 3, 150),
  (15, 3, 1, 500);
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total) VALUES
  (1, 1, '2023-05-01 10:00:00', 3000),
  (2, 2, '2023-11-11 11:11:11', 0);
