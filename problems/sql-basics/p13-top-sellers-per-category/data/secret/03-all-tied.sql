-- Five toys with the same quantity sold: all five share rank 1.
INSERT INTO customers (customer_id, name, city) VALUES (1, 'Nakano', 'Kobe'), (2, 'Ogawa', 'Kobe');
INSERT INTO products (product_id, name, category, price) VALUES
  (1, 'Kite', 'toys', 1500), (2, 'Yo-yo', 'toys', 90), (3, 'Robot', 'toys', 4500),
  (4, 'Top', 'toys', 300), (5, 'Ball', 'toys', 700), (6, 'Tea', 'food', 800);
INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
  (1, 1, '2025-03-01 10:00:00', 'shipped'),
  (2, 2, '2025-03-02 10:00:00', 'pending');
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 2, 1500), (1, 2, 3, 90), (1, 3, 1, 4500), (1, 4, 3, 300), (1, 5, 1, 700),
  (2, 1, 1, 1400), (2, 3, 2, 4000), (2, 5, 2, 650), (2, 6, 1, 800);
