-- The venue relay's state (sqlexam-relay): the central server's pinned key, its
-- checkpoints, and the proof of each record forwarded.
CREATE TABLE relay_servers (
    url TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    pinned_at TEXT NOT NULL
);
CREATE TABLE relay_checkpoints (
    server TEXT NOT NULL,
    size INTEGER NOT NULL,
    note TEXT NOT NULL,
    consistency TEXT NOT NULL,
    received_wall_ms INTEGER NOT NULL,
    PRIMARY KEY (server, size)
);
CREATE TABLE relay_receipts (
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    server TEXT NOT NULL,
    leaf INTEGER NOT NULL,
    size INTEGER NOT NULL,
    proof TEXT NOT NULL,
    PRIMARY KEY (session, seq, server)
) WITHOUT ROWID;
