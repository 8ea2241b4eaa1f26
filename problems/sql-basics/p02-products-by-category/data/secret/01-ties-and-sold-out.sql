-- Equal (category, price) pairs, sold-out products, rows inserted in no particular order.
INSERT INTO products (product_id, name, category, price, stock) VALUES
  (1,  'Notebook A5', 'stationery',  180,  25),
  (2,  'Board game',  'games',      4800,   3),
  (3,  'Cookbook',    'books',      2400,   0),
  (4,  'Puzzle 1000', 'games',      4800,   7),
  (5,  'Gel pen',     'stationery',  180, 120),
  (6,  'Novel',       'books',      1200,   4),
  (7,  'Chess set',   'games',      6200,   1),
  (8,  'Dictionary',  'books',      2400,   2),
  (9,  'Marker',      'stationery',  250,   0),
  (10, 'Atlas',       'books',      3600,   1),
  (11, 'Yo-yo',       'toys',         90,   1),
  (12, 'Kite',        'toys',       1500,   0),
  (13, 'Green tea',   'food',        600,  40),
  (14, 'Rice crackers','food',       350,   1);
