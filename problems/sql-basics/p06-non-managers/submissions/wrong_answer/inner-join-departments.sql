-- INNER JOIN to departments loses employees without a department.
SELECT e.emp_id, e.name, COALESCE(d.name, '(none)')
FROM employees e
JOIN departments d ON d.dept_id = e.dept_id
WHERE NOT EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.emp_id);
