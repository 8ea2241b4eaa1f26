ALTER TABLE records ADD COLUMN leaf INTEGER;
CREATE UNIQUE INDEX records_leaf ON records (leaf);
CREATE INDEX records_unsequenced ON records (received_at, session, seq) WHERE leaf IS NULL;
CREATE TABLE log_hashes (
    idx INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL
);
INSERT INTO log_head (id, size, root) VALUES (1, 0, x'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
