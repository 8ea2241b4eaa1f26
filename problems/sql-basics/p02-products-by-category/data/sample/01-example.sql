INSERT INTO products (product_id, name, category, price, stock) VALUES
  (1, 'Notebook A5', 'stationery',  180, 25),
  (2, 'Board game',  'games',      4800,  3),
  (3, 'Cookbook',    'books',      2400,  0),
  (4, 'Novel',       'books',      1200,  4),
  (5, 'Fountain pen','stationery', 3500,  2),
  (6, 'Atlas',       'books',      3600,  1);
