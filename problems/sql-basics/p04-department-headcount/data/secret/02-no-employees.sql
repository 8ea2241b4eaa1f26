-- Departments but not a single employee: every count is 0.
INSERT INTO departments (dept_id, name, location) VALUES
  (10, 'Planning', 'Tokyo'),
  (20, 'Planning', 'Sapporo'),
  (30, 'Audit', NULL);
