SELECT e.emp_id, e.name, COALESCE(d.name, '(none)')
FROM employees AS e
LEFT JOIN departments AS d ON d.dept_id = e.dept_id
WHERE NOT EXISTS (SELECT 1 FROM employees AS r WHERE r.manager_id = e.emp_id);
