-- One customer pays four times at the same moment; ids inserted out of order.
INSERT INTO customers (customer_id, name) VALUES (1, 'Mori'), (2, 'Nakano');
INSERT INTO payments (payment_id, customer_id, paid_at, amount) VALUES
  (40, 1, '2025-05-05 05:05:05', 400),
  (10, 1, '2025-05-05 05:05:05', 100),
  (30, 1, '2025-05-05 05:05:05', 300),
  (20, 1, '2025-05-05 05:05:05', 200),
  (25, 2, '2025-05-05 05:05:05', 250),
  (5,  1, '2025-05-06 00:00:00', 50);
