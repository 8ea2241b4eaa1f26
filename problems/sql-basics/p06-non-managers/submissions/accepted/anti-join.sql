-- Anti-join: LEFT JOIN to the reports and keep rows where none matched; CASE for the name.
SELECT DISTINCT e.emp_id, e.name,
       CASE WHEN e.dept_id IS NULL THEN '(none)' ELSE d.name END
FROM employees e
LEFT JOIN employees r ON r.manager_id = e.emp_id
LEFT JOIN departments d ON d.dept_id = e.dept_id
WHERE r.emp_id IS NULL;
