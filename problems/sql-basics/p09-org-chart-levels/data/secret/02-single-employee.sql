-- One employee, who is their own top manager.
INSERT INTO employees (emp_id, name, dept_id, manager_id, salary, hire_date) VALUES
  (7, 'Yamada', NULL, NULL, 500000, '2015-04-01');
