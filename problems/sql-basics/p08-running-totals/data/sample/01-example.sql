INSERT INTO customers (customer_id, name) VALUES (1, 'Sato'), (2, 'Suzuki');
INSERT INTO payments (payment_id, customer_id, paid_at, amount) VALUES
  (1, 1, '2025-03-01 10:00:00', 5000),
  (2, 2, '2025-03-01 10:00:00', 3000),
  (3, 1, '2025-03-02 09:00:00', 2000),
  (4, 2, '2025-02-27 18:00:00', 1000),
  (5, 1, '2025-03-05 12:00:00', 700);
