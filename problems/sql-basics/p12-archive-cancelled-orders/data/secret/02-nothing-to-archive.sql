-- The only cancelled order is from 2025 and the archive is empty: nothing changes.
INSERT INTO customers (customer_id, name, city) VALUES (1, 'Mori', NULL);
INSERT INTO products (product_id, name, category, price) VALUES (1, 'Tea', 'food', 800);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2024-02-02 10:00:00', 'shipped'),
  (2, 1, '2025-02-02 10:00:00', 'cancelled'),
  (3, 1, '2024-12-31 23:59:59', 'pending');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 800), (2, 1, 3, 750), (3, 1, 2, 800);
