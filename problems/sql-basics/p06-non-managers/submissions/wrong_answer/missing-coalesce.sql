-- Outputs NULL instead of '(none)' for employees without a department.
SELECT e.emp_id, e.name, d.name
FROM employees e
LEFT JOIN departments d ON d.dept_id = e.dept_id
WHERE NOT EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.emp_id);
