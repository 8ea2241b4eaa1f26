-- NOT IN over a column that contains NULL is never true, so the result is always empty.
SELECT e.emp_id, e.name, COALESCE(d.name, '(none)')
FROM employees e
LEFT JOIN departments d ON d.dept_id = e.dept_id
WHERE e.emp_id NOT IN (SELECT manager_id FROM employees);
