-- Every order is cancelled: the answer is empty.
INSERT INTO customers (customer_id, name, city) VALUES (1, 'Mori', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Atlas', 'books', 3600), (2, 'Kite', 'toys', 1500);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-02-01 10:00:00', 'cancelled'),
  (2, 1, '2025-02-02 10:00:00', 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 2, 3600), (1, 2, 1, 1500), (2, 2, 3, 1400);
