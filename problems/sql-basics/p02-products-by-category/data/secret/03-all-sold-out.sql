-- Nothing is in stock: the answer is empty.
INSERT INTO products (product_id, name, category, price, stock) VALUES
  (1, 'Snow globe', 'toys',  2000, 0),
  (2, 'Almanac',    'books', 1500, 0);
