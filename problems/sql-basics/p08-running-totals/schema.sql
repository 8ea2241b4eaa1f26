CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  name        TEXT NOT NULL
);
CREATE TABLE payments (
  payment_id  INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
  paid_at     TEXT    NOT NULL,               -- 'YYYY-MM-DD HH:MM:SS'
  amount      INTEGER NOT NULL                -- yen, 1 or more
);
CREATE INDEX payments_customer ON payments(customer_id, paid_at);
