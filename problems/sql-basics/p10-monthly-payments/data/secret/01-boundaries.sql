-- Payments on the first instant of the window, the last second before it, exactly at now,
-- inside the last six months counted back from today (2024-10-15 onwards) but before the
-- window, the same month one year earlier, and an empty month (2025-01).
INSERT INTO payments (payment_id, customer_id, paid_at, amount) VALUES
  (1,  1, '2024-04-10 12:00:00', 9999),   -- April one year ago: ignored
  (2,  2, '2024-10-31 23:59:59', 5000),   -- one second before the window
  (3,  1, '2024-11-01 00:00:00', 1200),   -- first instant of the window
  (4,  3, '2024-11-20 08:15:00', 800),
  (5,  2, '2024-12-24 19:00:00', 3000),
  (6,  2, '2024-12-24 19:00:00', 3000),   -- same time and amount as payment 5
  (7,  1, '2025-02-10 09:00:00', 450),
  (8,  3, '2025-03-31 23:59:59', 700),
  (9,  1, '2025-04-15 10:30:00', 2500),   -- exactly now
  (10, 4, '2024-10-20 14:00:00', 4000);   -- after 2024-10-15 but before the window
