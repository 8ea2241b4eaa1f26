CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    public_key TEXT NOT NULL,
    candidate TEXT NOT NULL,
    candidate_name TEXT NOT NULL,
    exam TEXT NOT NULL,
    pack_hash TEXT NOT NULL,
    held_seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_record_at TEXT NOT NULL
);
CREATE INDEX sessions_exam ON sessions (exam);
CREATE TABLE records (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    bytes BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TABLE pending (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    prev TEXT NOT NULL,
    bytes BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq, hash)
) WITHOUT ROWID;
CREATE TABLE evidence (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq, hash)
) WITHOUT ROWID;
CREATE TABLE submissions (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    problem TEXT NOT NULL,
    sql TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL,
    device_verdict TEXT NOT NULL,
    device_score INTEGER NOT NULL,
    max_score INTEGER NOT NULL,
    server_verdict TEXT,
    server_score INTEGER,
    server_error TEXT,
    graded_at TEXT,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'done')),
    worker TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session, seq)
);
CREATE INDEX jobs_ready ON jobs (state, lease_until_ms);
CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    exam TEXT NOT NULL,
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (session, seq, kind, detail)
);
CREATE INDEX flags_exam ON flags (exam);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('venue', 'organizer')),
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE packs (
    hash TEXT PRIMARY KEY,
    exam TEXT NOT NULL,
    version TEXT NOT NULL,
    bytes BLOB NOT NULL,
    start_code TEXT,
    proctor_key TEXT,
    uploaded_at TEXT NOT NULL,
    UNIQUE (exam, version)
);
