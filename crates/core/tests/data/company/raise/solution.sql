UPDATE emp SET salary = CAST(round(salary * 1.1) AS INTEGER) WHERE dept_id = 2;
