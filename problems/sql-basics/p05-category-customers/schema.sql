CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  city        TEXT
);
CREATE TABLE products (
  product_id INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  category   TEXT    NOT NULL,
  price      INTEGER NOT NULL                 -- current list price in yen
);
CREATE TABLE orders (
  order_id    INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
  ordered_at  TEXT    NOT NULL,               -- 'YYYY-MM-DD HH:MM:SS'
  status      TEXT    NOT NULL                -- 'pending', 'shipped' or 'cancelled'
);
CREATE TABLE order_items (
  order_id   INTEGER NOT NULL REFERENCES orders(order_id),
  product_id INTEGER NOT NULL REFERENCES products(product_id),
  quantity   INTEGER NOT NULL,                -- 1 or more
  unit_price INTEGER NOT NULL,                -- price per unit actually charged, in yen
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX order_items_product ON order_items(product_id);
