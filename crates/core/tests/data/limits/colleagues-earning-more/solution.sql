SELECT id, RANK() OVER (ORDER BY salary DESC) - 1 FROM emp;
