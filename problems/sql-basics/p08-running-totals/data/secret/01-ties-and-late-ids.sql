-- Two payments of one customer at the same time, ids out of time order,
-- a customer with a single payment and one with none.
INSERT INTO customers (customer_id, name) VALUES
  (1, 'Sato'), (2, 'Suzuki'), (3, 'Takahashi'), (4, 'Tanaka');
INSERT INTO payments (payment_id, customer_id, paid_at, amount) VALUES
  (1, 1, '2025-03-01 10:00:00', 5000),
  (2, 2, '2025-03-01 10:00:00', 3000),
  (3, 1, '2025-03-02 09:00:00', 2000),
  (4, 1, '2025-03-02 09:00:00', 1500),   -- same time as payment 3
  (5, 2, '2025-02-28 18:00:00', 1000),   -- larger id, earlier time
  (6, 1, '2025-03-05 12:00:00', 700),
  (7, 3, '2025-01-15 08:30:00', 12000);
