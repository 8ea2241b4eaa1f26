-- Top-down with UNION instead of UNION ALL, different names, and the level as REAL.
WITH RECURSIVE tree AS (
  SELECT emp_id AS id, 0.0 AS depth, emp_id AS root FROM employees WHERE manager_id IS NULL
  UNION
  SELECT emp.emp_id, tree.depth + 1, tree.root
  FROM tree, employees AS emp
  WHERE emp.manager_id = tree.id
)
SELECT id, depth, root FROM tree;
