CREATE TABLE departments (
  dept_id  INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,                              -- two departments may share a name
  location TEXT                                        -- city, may be NULL
);
CREATE TABLE employees (
  emp_id     INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  dept_id    INTEGER REFERENCES departments(dept_id),  -- NULL: belongs to no department
  manager_id INTEGER REFERENCES employees(emp_id),     -- NULL: has no manager
  salary     INTEGER NOT NULL,                         -- monthly salary in yen
  hire_date  TEXT    NOT NULL                          -- 'YYYY-MM-DD'
);
CREATE INDEX employees_dept ON employees(dept_id);
CREATE INDEX employees_manager ON employees(manager_id);
