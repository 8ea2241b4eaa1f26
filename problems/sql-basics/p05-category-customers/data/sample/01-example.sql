INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka'), (3, 'Takahashi', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Atlas', 'books', 3600), (2, 'Novel', 'books', 1200), (3, 'Chess set', 'games', 6200);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 2, '2025-01-06 11:00:00', 'pending'),
  (3, 3, '2025-01-07 12:00:00', 'shipped'),
  (4, 1, '2025-01-08 13:00:00', 'shipped');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 3600), (1, 3, 1, 6200),
  (2, 2, 2, 1200),
  (3, 1, 1, 3400), (3, 3, 1, 6200),
  (4, 2, 1, 1200);
