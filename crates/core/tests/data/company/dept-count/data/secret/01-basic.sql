INSERT INTO dept VALUES (1, 'Sales'), (2, 'Dev'), (3, 'Ops');
INSERT INTO emp VALUES (1, 'Aoki', 1, 300), (2, 'Baba', 2, 400), (3, 'Chiba', 3, 500);
