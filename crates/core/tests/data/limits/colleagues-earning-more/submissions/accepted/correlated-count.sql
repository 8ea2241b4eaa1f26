-- Quadratic but correct: must pass under the default time limit.
SELECT e.id, (SELECT COUNT(*) FROM emp x WHERE x.salary > e.salary) FROM emp e;
