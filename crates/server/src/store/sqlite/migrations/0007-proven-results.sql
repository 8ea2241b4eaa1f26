-- What results need beyond submissions: the exam pack's outline (problems, titles,
-- maximums, exam time), each session's progress and incidents, and organizers' decisions
-- on withheld sessions (every decision kept, the newest in force).
ALTER TABLE packs ADD COLUMN outline TEXT;
ALTER TABLE sessions ADD COLUMN elapsed_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN extended_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN first_wall TEXT;
ALTER TABLE sessions ADD COLUMN last_wall TEXT;
ALTER TABLE sessions ADD COLUMN ended TEXT;
CREATE TABLE incidents (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    elapsed_ms INTEGER,
    detail TEXT NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    exam TEXT NOT NULL,
    session TEXT NOT NULL,
    count INTEGER NOT NULL,
    note TEXT NOT NULL,
    by_label TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX decisions_exam ON decisions (exam, id);
