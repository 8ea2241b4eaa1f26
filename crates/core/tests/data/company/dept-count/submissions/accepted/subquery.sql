SELECT d.name, (SELECT count(*) FROM emp WHERE dept_id = d.id) FROM dept AS d ORDER BY 2 DESC;
