-- Each leaf's hash and its index: the log never takes a record it already holds again
-- (filled for earlier leaves when a process connects).
CREATE TABLE log_leaf_index (
    hash BYTEA PRIMARY KEY,
    leaf BIGINT NOT NULL UNIQUE
);
