INSERT INTO customers (customer_id, name, city) VALUES (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Pen', 'stationery', 150), (2, 'Puzzle', 'games', 2000);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (10, 1, '2024-03-05 10:00:00', 'cancelled'),
  (11, 2, '2024-07-07 07:07:07', 'shipped'),
  (12, 2, '2025-01-20 12:00:00', 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (10, 1, 2, 150), (10, 2, 1, 1800),
  (11, 2, 1, 2000),
  (12, 1, 4, 150);
INSERT INTO archived_orders (order_id, customer_id, ordered_at, total) VALUES
  (1, 1, '2023-05-01 10:00:00', 3000);
