CREATE TABLE products (
  product_id INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  category   TEXT    NOT NULL,   -- lower-case ASCII, e.g. 'books'
  price      INTEGER NOT NULL,   -- list price in yen
  stock      INTEGER NOT NULL    -- units in the warehouse, never negative
);
