-- What results need beyond submissions: the exam pack's outline (problems, titles,
-- maximums, exam time), each session's progress and incidents, and organizers' decisions
-- on withheld sessions (every decision kept, the newest in force).
ALTER TABLE packs ADD COLUMN outline TEXT;
ALTER TABLE sessions ADD COLUMN elapsed_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN extended_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN first_wall TEXT;
ALTER TABLE sessions ADD COLUMN last_wall TEXT;
ALTER TABLE sessions ADD COLUMN ended TEXT;
CREATE TABLE incidents (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    elapsed_ms BIGINT,
    detail TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE decisions (
    id BIGSERIAL PRIMARY KEY,
    exam TEXT NOT NULL,
    session TEXT NOT NULL,
    count BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    by_label TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX decisions_exam ON decisions (exam, id);
