-- Every order is cancelled: the answer is empty.
INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Sato', 'Tokyo'), (2, 'Suzuki', 'Osaka'), (3, 'Takahashi', NULL), (4, 'Tanaka', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Atlas', 'books', 3600), (2, 'Puzzle', 'games', 2000);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-03-01 10:00:00', 'cancelled'),
  (2, 2, '2025-03-02 10:00:00', 'cancelled'),
  (3, 3, '2025-03-03 10:00:00', 'cancelled'),
  (4, 4, '2025-03-04 10:00:00', 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 3600), (2, 1, 1, 3600), (3, 1, 2, 3600), (4, 1, 1, 3600), (4, 2, 1, 2000);
