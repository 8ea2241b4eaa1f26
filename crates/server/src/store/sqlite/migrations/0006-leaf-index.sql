-- Each leaf's hash and its index: the log never takes a record it already holds again
-- (filled for earlier leaves when the store opens).
CREATE TABLE log_leaf_index (
    hash BLOB PRIMARY KEY,
    leaf INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
