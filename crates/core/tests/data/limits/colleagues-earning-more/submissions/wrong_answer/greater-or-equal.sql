SELECT e.id, (SELECT COUNT(*) FROM emp x WHERE x.salary >= e.salary) - 1 FROM emp e;
