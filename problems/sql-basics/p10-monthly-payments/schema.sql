CREATE TABLE payments (
  payment_id  INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  paid_at     TEXT    NOT NULL,               -- 'YYYY-MM-DD HH:MM:SS', never later than now
  amount      INTEGER NOT NULL                -- yen, 1 or more
);
CREATE INDEX payments_paid_at ON payments(paid_at);
