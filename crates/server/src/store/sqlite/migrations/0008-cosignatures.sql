-- Witnesses' cosignatures of the log's checkpoints (c2sp.org/tlog-cosignature): one
-- signature line per witness and checkpoint size, served with that checkpoint.
CREATE TABLE cosignatures (
    size INTEGER NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (size, witness)
) WITHOUT ROWID;
