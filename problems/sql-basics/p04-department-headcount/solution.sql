SELECT d.dept_id, d.name, COUNT(e.emp_id)
FROM departments AS d
LEFT JOIN employees AS e
  ON e.dept_id = d.dept_id AND e.salary >= 300000
GROUP BY d.dept_id, d.name;
