CREATE TABLE employees (
  emp_id    INTEGER PRIMARY KEY,
  name      TEXT    NOT NULL,
  dept_id   INTEGER,              -- NULL: not assigned to a department
  salary    INTEGER NOT NULL,     -- monthly salary in yen
  hire_date TEXT    NOT NULL      -- 'YYYY-MM-DD'
);
