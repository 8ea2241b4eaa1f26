INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Sato', 'Tokyo'),
  (2, 'Suzuki', 'Osaka');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Pen', 'stationery', 150),
  (2, 'Puzzle', 'games', 2000),
  (3, 'Cookies', 'food', 500);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 2, '2025-01-06 11:00:00', 'pending'),
  (3, 2, '2025-01-07 12:30:00', 'shipped');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 2, 150),
  (1, 3, 1, 500),
  (2, 2, 1, 2000),
  (3, 2, 1, 1800);
