-- Who may sit each exam pack: the roster's candidates with their admission keys (from the
-- opened pack, at upload), and how each session was admitted.
CREATE TABLE roster (
    pack_hash TEXT NOT NULL,
    candidate TEXT NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    PRIMARY KEY (pack_hash, candidate)
);
ALTER TABLE sessions ADD COLUMN admitted TEXT;
