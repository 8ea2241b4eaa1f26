-- Departments only: the answer is empty.
INSERT INTO departments (dept_id, name, location) VALUES
  (1, 'Sales', 'Tokyo'),
  (2, 'Audit', NULL);
