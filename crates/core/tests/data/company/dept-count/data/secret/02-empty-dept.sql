INSERT INTO dept VALUES (1, 'Sales'), (2, 'Dev'), (3, 'Legal');
INSERT INTO emp VALUES (1, 'Aoki', 1, 300), (2, 'Baba', 2, 400), (3, 'Chiba', NULL, 500);
