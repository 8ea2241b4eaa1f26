-- Customers but no payments: the answer is empty.
INSERT INTO customers (customer_id, name) VALUES (1, 'Ogawa'), (2, 'Saito');
