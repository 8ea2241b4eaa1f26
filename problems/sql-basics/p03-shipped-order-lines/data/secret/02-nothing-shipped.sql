-- No order is shipped yet: the answer is empty.
INSERT INTO customers (customer_id, name, city) VALUES
  (1, 'Ueda', 'Kyoto'),
  (2, 'Yamada', NULL);
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Tea', 'food', 800);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-02-01 08:00:00', 'pending'),
  (2, 2, '2025-02-02 09:00:00', 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 800),
  (2, 1, 5, 700);
