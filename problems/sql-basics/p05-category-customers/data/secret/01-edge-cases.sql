-- books: exactly 3 customers, one of them buying twice; games: 2 customers but 5 lines;
-- food and toys: a further customer only through a cancelled order; stationery: 4 customers.
INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka'), (3, 'Takahashi', NULL),
  (4, 'Tanaka', 'Nagoya'), (5, 'Ito', 'Tokyo'), (6, 'Watanabe', 'Sendai'), (7, 'Kobayashi', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Atlas', 'books', 3600), (2, 'Novel', 'books', 1200),
  (3, 'Chess set', 'games', 6200), (4, 'Go set', 'games', 5400),
  (5, 'Green tea', 'food', 600), (6, 'Rice', 'food', 2200),
  (7, 'Robot', 'toys', 4500), (8, 'Kite', 'toys', 1500),
  (9, 'Pen', 'stationery', 150), (10, 'Ink', 'stationery', 400),
  (11, 'Cookbook', 'books', 2400);   -- never ordered
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-01-05 10:00:00', 'shipped'),
  (2, 1, '2025-01-06 11:00:00', 'pending'),
  (3, 2, '2025-01-07 12:00:00', 'shipped'),
  (4, 3, '2025-01-08 13:00:00', 'shipped'),
  (5, 4, '2025-01-09 14:00:00', 'shipped'),
  (6, 5, '2025-01-10 15:00:00', 'shipped'),
  (7, 4, '2025-01-11 16:00:00', 'pending'),
  (8, 5, '2025-01-12 17:00:00', 'cancelled'),
  (9, 6, '2025-01-13 18:00:00', 'cancelled'),
  (10, 2, '2025-01-14 19:00:00', 'shipped');   -- no lines
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 3600), (1, 5, 2, 600), (1, 9, 3, 150),
  (2, 2, 1, 1200), (2, 9, 1, 150),
  (3, 1, 2, 3600), (3, 5, 1, 600), (3, 7, 1, 4500), (3, 10, 2, 400),
  (4, 2, 1, 1200), (4, 7, 2, 4500), (4, 9, 1, 150),
  (5, 3, 1, 6200), (5, 4, 1, 5400), (5, 6, 5, 2200),
  (6, 3, 2, 6200), (6, 4, 1, 5400), (6, 10, 1, 400),
  (7, 3, 1, 6200),
  (8, 5, 4, 600), (8, 2, 1, 1200),
  (9, 8, 1, 1500);
