-- A shipped order without lines, discounted unit prices, customers sharing a name,
-- identical output rows from two different customers, pending and cancelled orders.
INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Sato', 'Tokyo'),
  (2, 'Suzuki', 'Osaka'),
  (3, 'Sato', NULL),
  (4, 'Tanaka', 'Nagoya');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Pen', 'stationery', 150),
  (2, 'Notebook', 'stationery', 300),
  (3, 'Puzzle', 'games', 2000),
  (4, 'Cookies', 'food', 500);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 2, '2025-01-06 11:00:00', 'pending'),
  (3, 3, '2025-01-07 12:00:00', 'shipped'),     -- no lines at all
  (4, 1, '2025-01-08 09:30:00', 'cancelled'),
  (5, 2, '2025-01-09 15:00:00', 'shipped'),
  (6, 3, '2025-01-10 16:45:00', 'shipped'),
  (7, 1, '2025-01-10 16:45:00', 'shipped');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 2, 150),
  (1, 2, 1, 270),     -- discounted
  (2, 3, 1, 2000),
  (4, 4, 3, 500),
  (5, 1, 10, 120),    -- discounted
  (5, 3, 1, 2000),
  (6, 4, 2, 500),
  (7, 4, 2, 500);     -- same output as the line of order 6 except order_id
