-- Only old payments: all six months show 0 payments and a total of 0.
INSERT INTO payments (payment_id, customer_id, paid_at, amount) VALUES
  (1, 1, '2023-12-31 23:59:59', 1000),
  (2, 2, '2024-05-05 05:05:05', 2000);
