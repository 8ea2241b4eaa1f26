-- 5,000 employees: a correlated count over them is quadratic (25 million pairs).
INSERT INTO emp WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  SELECT i, (i * 7919) % 3001 FROM n;
