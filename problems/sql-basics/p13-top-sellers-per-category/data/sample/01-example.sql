INSERT INTO customers (customer_id, name, city) VALUES (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Chess set', 'games', 1500), (2, 'Go set', 'games', 1000), (3, 'Shogi set', 'games', 2000),
  (4, 'Playing cards', 'games', 300), (5, 'Atlas', 'books', 3600), (6, 'Novel', 'books', 1200);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 2, '2025-01-06 11:00:00', 'pending'),
  (3, 1, '2025-01-07 12:00:00', 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 4, 1500), (1, 2, 5, 1000), (1, 5, 2, 3600), (1, 6, 1, 1200),
  (2, 1, 1, 1400), (2, 3, 2, 2000), (2, 4, 1, 300), (2, 6, 2, 1100),
  (3, 4, 9, 300);
