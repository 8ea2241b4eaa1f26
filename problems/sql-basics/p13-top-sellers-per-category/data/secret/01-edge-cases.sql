-- games: 10, 10, 8, 7 (ranks 1, 1, 3, 4); books: 12, 9, 5, 5, 3 (ranks 1, 2, 3, 3, 5);
-- food: a product sold only in a cancelled order; weighted averages with fractions
-- (999.3, 1144.44..., 1999.375); products never sold.
INSERT INTO customers (customer_id, name, city) VALUES (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka'), (3, 'Ito', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Chess set', 'games', 1500), (2, 'Go set', 'games', 1000), (3, 'Shogi set', 'games', 2000),
  (4, 'Playing cards', 'games', 300), (5, 'Dice', 'games', 200),
  (6, 'Atlas', 'books', 3600), (7, 'Novel', 'books', 1200), (8, 'Poems', 'books', 800),
  (9, 'Essays', 'books', 1000), (10, 'Comics', 'books', 500),
  (11, 'Cookies', 'food', 500), (12, 'Green tea', 'food', 650), (13, 'Candy', 'food', 100),
  (14, 'Pen', 'stationery', 150);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 2, '2025-01-06 11:00:00', 'shipped'),
  (3, 3, '2025-01-07 12:00:00', 'pending'),
  (4, 1, '2025-01-08 13:00:00', 'cancelled'),
  (5, 2, '2025-01-09 14:00:00', 'shipped');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 4, 1500), (1, 2, 3, 1000), (1, 6, 12, 3600), (1, 10, 3, 500),
  (2, 1, 6, 1400), (2, 3, 3, 2000), (2, 7, 4, 1200), (2, 11, 4, 500),
  (3, 2, 7, 999),  (3, 7, 5, 1100), (3, 9, 2, 950), (3, 12, 2, 650),
  (4, 13, 50, 100), (4, 1, 1, 1500),
  (5, 3, 5, 1999), (5, 4, 7, 300), (5, 8, 5, 800), (5, 9, 3, 1000);
