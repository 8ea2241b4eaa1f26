-- Counts with a correlated subquery per department.
SELECT d.dept_id, d.name,
       (SELECT COUNT(*) FROM employees e WHERE e.dept_id = d.dept_id AND e.salary >= 300000) AS well_paid
FROM departments d;
