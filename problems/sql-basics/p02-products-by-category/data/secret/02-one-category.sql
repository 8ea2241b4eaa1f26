-- A single category; stock values 0 and 1 sit right at the limit.
INSERT INTO products (product_id, name, category, price, stock) VALUES
  (1, 'Eraser',       'stationery',   80, 1),
  (2, 'Pencil case',  'stationery',  900, 0),
  (3, 'Ruler',        'stationery',  120, 1),
  (4, 'Stapler',      'stationery',  900, 1),
  (5, 'Scissors',     'stationery',  450, 9),
  (6, 'Glue stick',   'stationery',  120, 0),
  (7, 'Binder',       'stationery',  900, 3);
