-- Tests dept_id = NULL, which is never true, so '(none)' is never produced.
SELECT e.emp_id, e.name, CASE WHEN e.dept_id = NULL THEN '(none)' ELSE d.name END
FROM employees e
LEFT JOIN departments d ON d.dept_id = e.dept_id
WHERE NOT EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.emp_id);
