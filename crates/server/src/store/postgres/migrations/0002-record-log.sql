CREATE TABLE log_leaves (
    leaf BIGINT PRIMARY KEY,
    session TEXT NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (session, seq)
);
CREATE TABLE log_queue (
    id BIGSERIAL PRIMARY KEY,
    session TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO log_queue (session, seq, hash)
    SELECT session, seq, sha256('\x00'::bytea || bytes) FROM records ORDER BY received_at, session, seq;
CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    root BYTEA NOT NULL
);
INSERT INTO log_head (id, size, root) VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
