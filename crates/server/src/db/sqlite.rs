//! The embedded backend: one SQLite file (WAL, `synchronous=FULL`), one connection behind a
//! mutex, every call on tokio's blocking pool. One server process owns the file; several
//! processes need the PostgreSQL backend.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sqlexam_core::grade::Verdict;
use sqlexam_core::record::GENESIS;

use super::{
    Checks, Counts, Flag, Job, JobResult, MAX_ATTEMPTS, PackFacts, Role, SessionRow, Store,
    StoreError, StoreResult, StoredPack, SubmissionRow, effects, gave_up, parse_verdict,
    regrade_flag, verdict_text,
};
use crate::ingest::{Held, Incoming, Plan, SessionFacts, plan};
use crate::log;
use sqlexam_core::log::Hash;

const MIGRATIONS: &[&str] = &[
    r"
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
",
    r"
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
",
    r"
ALTER TABLE sessions ADD COLUMN venue TEXT NOT NULL DEFAULT '';
",
    // The venue relay's state (crate::relay): the central server's pinned key, its
    // checkpoints, and the proof of each record forwarded.
    r"
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
",
];

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Job claims and verdicts, on a connection that commits without waiting for the disk
    /// (`synchronous=NORMAL`, still safe against a killed process): a verdict lost in a
    /// power cut leaves its job claimed, and it is graded again when the lease runs out.
    /// Records and receipts always go through `conn` (`synchronous=FULL`).
    jobs: Arc<Mutex<Connection>>,
    /// The record log's reads for receipts: a reader of its own (WAL lets it read what
    /// the writer committed while the writer goes on), so proving does not queue behind
    /// batches being stored.
    reads: Arc<Mutex<Connection>>,
}

fn connect(path: &Path, synchronous: &str) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
    ))
    .map_err(err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    Ok(conn)
}

fn err(e: rusqlite::Error) -> StoreError {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    StoreError {
        message: e.to_string(),
        retryable: busy,
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut conn = connect(path, "FULL")?;
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::fatal(format!(
                "{}: made by a newer sqlexam (schema {version}, this one knows {})",
                path.display(),
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction().map_err(err)?;
            tx.execute_batch(migration).map_err(err)?;
            tx.pragma_update(None, "user_version", i + 1).map_err(err)?;
            tx.commit().map_err(err)?;
        }
        catch_up_log(&mut conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            jobs: Arc::new(Mutex::new(connect(path, "NORMAL")?)),
            reads: Arc::new(Mutex::new(connect(path, "NORMAL")?)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.conn.clone(), f).await
    }

    async fn with_reads<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.reads.clone(), f).await
    }

    async fn with_jobs<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.jobs.clone(), f).await
    }

    async fn on<T: Send + 'static>(
        conn: Arc<Mutex<Connection>>,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard).map_err(err)
        })
        .await
        .map_err(|e| StoreError::fatal(format!("a storage task failed: {e}")))?
    }
}

fn pack_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PackFacts> {
    Ok(PackFacts {
        hash: r.get(0)?,
        exam: r.get(1)?,
        version: r.get(2)?,
        start_code: r.get(3)?,
        proctor_key: r.get(4)?,
    })
}

/// A pack's columns but its bytes.
const FACT_COLUMNS: &str = "hash, exam, version, start_code, proctor_key";
const PACK_COLUMNS: &str = "hash, exam, version, bytes, start_code, proctor_key, uploaded_at";

fn insert_flag(tx: &Connection, f: &Flag, now: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO flags (exam, session, seq, kind, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![f.exam, f.session, f.seq as i64, f.kind, f.detail, now],
    )?;
    Ok(())
}

/// Claims the oldest ready job in `tx` (see [`Store::next_job`]).
fn claim_in(
    tx: &rusqlite::Transaction<'_>,
    worker: &str,
    lease_ms: u64,
    now_ms: i64,
) -> rusqlite::Result<Option<Job>> {
    let job = loop {
        let candidate = tx
            .query_row(
                "SELECT j.id, j.session, j.seq, j.attempts, s.pack_hash, b.problem, b.sql,
                        s.exam
                 FROM jobs j JOIN sessions s ON s.id = j.session
                 JOIN submissions b ON b.session = j.session AND b.seq = j.seq
                 WHERE j.state = 'queued' OR (j.state = 'claimed' AND j.lease_until_ms < ?1)
                 ORDER BY j.id LIMIT 1",
                [now_ms],
                |r| {
                    Ok((
                        Job {
                            id: r.get(0)?,
                            session: r.get(1)?,
                            seq: r.get::<_, i64>(2)? as u64,
                            pack_hash: r.get(4)?,
                            problem: r.get(5)?,
                            sql: r.get(6)?,
                        },
                        r.get::<_, u32>(3)?,
                        r.get::<_, String>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((job, attempts, exam)) = candidate else {
            break None;
        };
        if attempts >= MAX_ATTEMPTS {
            // Claimed and lost this many times (a grader that crashes on it): give up.
            tx.execute("UPDATE jobs SET state = 'done' WHERE id = ?1", [job.id])?;
            insert_flag(
                tx,
                &gave_up(exam, job.session.clone(), job.seq),
                &sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc()),
            )?;
            continue;
        }
        tx.execute(
            "UPDATE jobs SET state = 'claimed', worker = ?2, lease_until_ms = ?3,
                attempts = attempts + 1 WHERE id = ?1",
            params![job.id, worker, now_ms + lease_ms as i64],
        )?;
        break Some(job);
    };
    Ok(job)
}

/// Stores a verdict in `tx` (see [`Store::next_job`]).
fn finish_in(tx: &rusqlite::Transaction<'_>, result: &JobResult) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE submissions SET server_verdict = ?3, server_score = ?4,
            server_error = ?5, graded_at = ?6 WHERE session = ?1 AND seq = ?2",
        params![
            result.session,
            result.seq as i64,
            result.verdict.map(verdict_text),
            result.verdict.map(|_| result.score),
            result.error,
            result.graded_at
        ],
    )?;
    tx.execute("UPDATE jobs SET state = 'done' WHERE id = ?1", [result.id])?;
    let (exam, device_verdict, device_score): (String, String, u32) = tx.query_row(
        "SELECT s.exam, b.device_verdict, b.device_score FROM submissions b
         JOIN sessions s ON s.id = b.session WHERE b.session = ?1 AND b.seq = ?2",
        params![result.session, result.seq as i64],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if let Some(flag) = regrade_flag(exam, result, &device_verdict, device_score) {
        insert_flag(tx, &flag, &result.graded_at)?;
    }
    Ok(())
}

fn hash_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Hash> {
    let bytes: Vec<u8> = r.get(i)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Blob,
            "a log hash is not 32 bytes".into(),
        )
    })?;
    Ok(Hash(bytes))
}

fn log_head_in(tx: &Connection) -> rusqlite::Result<(u64, Hash)> {
    tx.query_row("SELECT size, root FROM log_head WHERE id = 1", [], |r| {
        Ok((r.get::<_, i64>(0)? as u64, hash_at(r, 1)?))
    })
}

fn log_hashes_in(tx: &Connection, indexes: &[u64]) -> rusqlite::Result<Vec<Hash>> {
    let mut stmt = tx.prepare_cached("SELECT hash FROM log_hashes WHERE idx = ?1")?;
    indexes
        .iter()
        .map(|&i| stmt.query_row([i as i64], |r| hash_at(r, 0)))
        .collect()
}

/// Appends leaves (their hashes, in order) to the log in `tx` (the writer's transaction);
/// returns the first one's leaf index (the next ones follow it).
fn append_to_log(tx: &Connection, leaves: impl IntoIterator<Item = Hash>) -> rusqlite::Result<u64> {
    let (size, _) = log_head_in(tx)?;
    let needed = log::frontier(size);
    let known = needed
        .iter()
        .copied()
        .zip(log_hashes_in(tx, &needed)?)
        .collect();
    let appended = log::append(size, known, leaves)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    if appended.size == size {
        return Ok(size);
    }
    let mut hash = tx.prepare_cached("INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)")?;
    for (i, h) in &appended.hashes {
        hash.execute(params![*i as i64, &h.0[..]])?;
    }
    tx.execute(
        "UPDATE log_head SET size = ?1, root = ?2 WHERE id = 1",
        params![appended.size as i64, &appended.root.0[..]],
    )?;
    Ok(size)
}

/// Appends records stored before the log existed (a data folder of an earlier sqlexam).
fn catch_up_log(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let missing: Vec<(String, u64, Vec<u8>)> = {
        let mut stmt = tx
            .prepare(
                "SELECT session, seq, bytes FROM records WHERE leaf IS NULL
                 ORDER BY received_at, session, seq",
            )
            .map_err(err)?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })
        .map_err(err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(err)?
    };
    if missing.is_empty() {
        return Ok(());
    }
    let first =
        append_to_log(&tx, missing.iter().map(|(_, _, b)| log::leaf_hash(b))).map_err(err)?;
    {
        let mut leaf = tx
            .prepare("UPDATE records SET leaf = ?3 WHERE session = ?1 AND seq = ?2")
            .map_err(err)?;
        for (k, (session, seq, _)) in missing.iter().enumerate() {
            leaf.execute(params![session, *seq as i64, (first + k as u64) as i64])
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}

#[async_trait]
impl Store for SqliteStore {
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>> {
        let session = session.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT id, device, public_key, candidate, candidate_name, exam, pack_hash
                 FROM sessions WHERE id = ?1",
                [&session],
                |r| {
                    Ok(SessionFacts {
                        session: r.get(0)?,
                        device: r.get(1)?,
                        public_key: r.get(2)?,
                        candidate: r.get(3)?,
                        candidate_name: r.get(4)?,
                        exam: r.get(5)?,
                        pack_hash: r.get(6)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
    ) -> StoreResult<Plan> {
        let (facts, checks, now) = (facts.clone(), checks.clone(), now.to_owned());
        let session = facts.session.clone();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let new_session = tx.execute(
                "INSERT OR IGNORE INTO sessions (id, device, public_key, candidate,
                    candidate_name, exam, pack_hash, held_seq, head, created_at, last_record_at,
                    venue)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9, ?10)",
                params![
                    facts.session,
                    facts.device,
                    facts.public_key,
                    facts.candidate,
                    facts.candidate_name,
                    facts.exam,
                    facts.pack_hash,
                    GENESIS,
                    now,
                    checks.venue
                ],
            )? == 1;
            let (seq, head, key): (i64, String, String) = tx.query_row(
                "SELECT held_seq, head, public_key FROM sessions WHERE id = ?1",
                [&facts.session],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            if key != facts.public_key {
                // Another first record won a race for this new session.
                return Ok(None);
            }
            let mut held = Held {
                seq: seq as u64,
                head,
                ..Held::default()
            };
            {
                let mut stored =
                    tx.prepare_cached("SELECT hash FROM records WHERE session = ?1 AND seq = ?2")?;
                for r in incoming.iter().filter(|r| r.seq <= held.seq) {
                    if let Some(hash) = stored
                        .query_row(params![facts.session, r.seq as i64], |row| {
                            row.get::<_, String>(0)
                        })
                        .optional()?
                    {
                        held.stored.insert(r.seq, hash);
                    }
                }
                let mut pending = tx.prepare_cached(
                    "SELECT seq, prev, hash, bytes, signature FROM pending WHERE session = ?1",
                )?;
                held.pending = pending
                    .query_map([&facts.session], |r| {
                        Ok(Incoming {
                            seq: r.get::<_, i64>(0)? as u64,
                            prev: r.get(1)?,
                            hash: r.get(2)?,
                            bytes: r.get(3)?,
                            signature: r.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
            }
            let plan = plan(&held, &incoming);
            let effects = effects(&facts, &plan, &checks, new_session);
            // The chain's new records become the log's next leaves, in this transaction.
            let first_leaf =
                append_to_log(&tx, plan.append.iter().map(|r| log::leaf_hash(&r.bytes)))?;
            {
                let mut append = tx.prepare_cached(
                    "INSERT INTO records (session, seq, hash, bytes, signature, received_at, leaf)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (k, r) in plan.append.iter().enumerate() {
                    append.execute(params![
                        facts.session,
                        r.seq as i64,
                        r.hash,
                        r.bytes,
                        r.signature,
                        now,
                        (first_leaf + k as u64) as i64
                    ])?;
                }
                let mut evidence = tx.prepare_cached(
                    "INSERT OR IGNORE INTO evidence (session, seq, hash, kind, bytes, signature,
                        received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (kind, r) in &plan.forks {
                    evidence.execute(params![
                        facts.session,
                        r.seq as i64,
                        r.hash,
                        kind.code(),
                        r.bytes,
                        r.signature,
                        now
                    ])?;
                }
                let mut hold = tx.prepare_cached(
                    "INSERT OR IGNORE INTO pending (session, seq, hash, prev, bytes, signature,
                        received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for r in &plan.hold {
                    hold.execute(params![
                        facts.session,
                        r.seq as i64,
                        r.hash,
                        r.prev,
                        r.bytes,
                        r.signature,
                        now
                    ])?;
                }
                let mut release = tx.prepare_cached(
                    "DELETE FROM pending WHERE session = ?1 AND seq = ?2 AND hash = ?3",
                )?;
                for (seq, hash) in &plan.release {
                    release.execute(params![facts.session, *seq as i64, hash])?;
                }
                let mut submission = tx.prepare_cached(
                    "INSERT INTO submissions (session, seq, problem, sql, submitted_ms,
                        device_verdict, device_score, max_score)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut job = tx.prepare_cached(
                    "INSERT INTO jobs (session, seq, state) VALUES (?1, ?2, 'queued')",
                )?;
                for s in &effects.submissions {
                    submission.execute(params![
                        facts.session,
                        s.seq as i64,
                        s.problem,
                        s.sql,
                        s.submitted_ms as i64,
                        verdict_text(s.verdict),
                        s.score,
                        s.max_score
                    ])?;
                    job.execute(params![facts.session, s.seq as i64])?;
                }
            }
            for f in &effects.flags {
                insert_flag(&tx, f, &now)?;
            }
            tx.execute(
                "UPDATE sessions SET held_seq = ?2, head = ?3, last_record_at = ?4 WHERE id = ?1",
                params![facts.session, plan.seq as i64, plan.head, now],
            )?;
            tx.commit()?;
            Ok(Some(plan))
        })
        .await?
        .ok_or_else(|| StoreError {
            message: format!(
                "session {} was started at the same moment by another first record: send again",
                session
            ),
            retryable: true,
        })
    }

    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>> {
        let session = session.to_owned();
        self.with(move |c| {
            let Some(seq) = c
                .query_row(
                    "SELECT held_seq FROM sessions WHERE id = ?1",
                    [&session],
                    |r| Ok(r.get::<_, i64>(0)? as u64),
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt =
                c.prepare("SELECT DISTINCT seq FROM pending WHERE session = ?1 ORDER BY seq")?;
            let pending = stmt
                .query_map([&session], |r| Ok(r.get::<_, i64>(0)? as u64))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((seq, pending)))
        })
        .await
    }

    async fn sequence(&self) -> StoreResult<(u64, Hash)> {
        // Records join the log in `apply`'s own transaction (one writer), so none wait.
        self.log_head().await
    }

    async fn log_head(&self) -> StoreResult<(u64, Hash)> {
        self.with_reads(|c| log_head_in(c)).await
    }

    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>> {
        self.with_reads(move |c| log_hashes_in(c, &indexes)).await
    }

    async fn leaves(&self, session: &str, from: u64, to: u64) -> StoreResult<Vec<(u64, u64)>> {
        let session = session.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, leaf FROM records WHERE session = ?1 AND seq BETWEEN ?2 AND ?3
                 AND leaf IS NOT NULL ORDER BY seq",
            )?;
            stmt.query_map(params![session, from as i64, to as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        })
        .await
    }

    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()> {
        let (hash, label, now) = (hash.to_owned(), label.to_owned(), now.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT INTO tokens (hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash, role.as_str(), label, now],
            )
            .map(|_| ())
        })
        .await
    }

    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT role, label FROM tokens WHERE hash = ?1",
                [&hash],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
        })
        .await
        .map(|row| row.and_then(|(role, label)| Some((Role::parse(&role)?, label))))
    }

    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>> {
        let pack = pack.clone();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let held: Option<String> = tx
                .query_row(
                    "SELECT hash FROM packs WHERE exam = ?1 AND version = ?2",
                    [&pack.exam, &pack.version],
                    |r| r.get(0),
                )
                .optional()?;
            let outcome = match held {
                Some(hash) if hash != pack.hash => Err(hash),
                Some(_) => {
                    // The same pack again: a corrected start code is taken.
                    tx.execute(
                        "UPDATE packs SET start_code = ?2 WHERE hash = ?1",
                        params![pack.hash, pack.start_code],
                    )?;
                    Ok(())
                }
                None => {
                    tx.execute(
                        &format!(
                            "INSERT INTO packs ({PACK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                        ),
                        params![
                            pack.hash,
                            pack.exam,
                            pack.version,
                            pack.bytes,
                            pack.start_code,
                            pack.proctor_key,
                            pack.uploaded_at
                        ],
                    )?;
                    Ok(())
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn requeue_waiting(&self, hash: &str) -> StoreResult<u64> {
        let hash = hash.to_owned();
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let waiting = "SELECT b.session, b.seq FROM submissions b
                JOIN sessions s ON s.id = b.session
                WHERE s.pack_hash = ?1 AND b.server_verdict IS NULL
                  AND b.server_error LIKE ?2 || '%'";
            let n = tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', attempts = 0, lease_until_ms = 0
                     WHERE state = 'done' AND (session, seq) IN ({waiting})"
                ),
                params![hash, crate::regrade::WAITING_FOR_PACK],
            )?;
            tx.execute(
                &format!(
                    "UPDATE submissions SET server_error = NULL, graded_at = NULL
                     WHERE (session, seq) IN ({waiting})"
                ),
                params![hash, crate::regrade::WAITING_FOR_PACK],
            )?;
            tx.execute(
                "DELETE FROM flags WHERE kind = 'ungradable' AND detail LIKE '%' || ?2 || '%'
                   AND session IN (SELECT id FROM sessions WHERE pack_hash = ?1)",
                params![hash, crate::regrade::WAITING_FOR_PACK],
            )?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }

    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!(
                    "SELECT {FACT_COLUMNS} FROM packs WHERE exam = ?1 ORDER BY rowid DESC LIMIT 1"
                ),
                [&exam],
                pack_row,
            )
            .optional()
        })
        .await
    }

    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {FACT_COLUMNS} FROM packs WHERE hash = ?1"),
                [&hash],
                pack_row,
            )
            .optional()
        })
        .await
    }

    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row("SELECT bytes FROM packs WHERE hash = ?1", [&hash], |r| {
                r.get(0)
            })
            .optional()
        })
        .await
    }

    async fn exams(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT exam, version, hash FROM packs p WHERE rowid =
                   (SELECT max(rowid) FROM packs q WHERE q.exam = p.exam) ORDER BY exam",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .await
    }

    async fn next_job(
        &self,
        done: Option<&JobResult>,
        worker: &str,
        lease_ms: u64,
        now_ms: i64,
    ) -> StoreResult<Option<Job>> {
        let (done, worker) = (done.cloned(), worker.to_owned());
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(result) = &done {
                finish_in(&tx, result)?;
            }
            let job = claim_in(&tx, &worker, lease_ms, now_ms)?;
            tx.commit()?;
            Ok(job)
        })
        .await
    }

    async fn finish_job(&self, done: &JobResult) -> StoreResult<()> {
        let done = done.clone();
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            finish_in(&tx, &done)?;
            tx.commit()
        })
        .await
    }

    async fn release_job(&self, id: i64) -> StoreResult<()> {
        self.with_jobs(move |c| {
            c.execute(
                "UPDATE jobs SET state = 'queued', lease_until_ms = 0 WHERE id = ?1 AND state = 'claimed'",
                [id],
            )
            .map(|_| ())
        })
        .await
    }

    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT b.session, b.seq, s.candidate, s.candidate_name, b.problem,
                        b.submitted_ms, b.device_verdict, b.device_score, b.max_score,
                        b.server_verdict, b.server_score, b.server_error
                 FROM submissions b JOIN sessions s ON s.id = b.session
                 WHERE s.exam = ?1 ORDER BY s.candidate, b.problem, b.submitted_ms, b.seq",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(SubmissionRow {
                    session: r.get(0)?,
                    seq: r.get::<_, i64>(1)? as u64,
                    candidate: r.get(2)?,
                    candidate_name: r.get(3)?,
                    problem: r.get(4)?,
                    submitted_ms: r.get::<_, i64>(5)? as u64,
                    device_verdict: parse_verdict(&r.get::<_, String>(6)?)
                        .unwrap_or(Verdict::Forbidden),
                    device_score: r.get(7)?,
                    max_score: r.get(8)?,
                    server_verdict: r
                        .get::<_, Option<String>>(9)?
                        .and_then(|v| parse_verdict(&v)),
                    server_score: r.get(10)?,
                    server_error: r.get(11)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>> {
        let exam = exam.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, device, candidate, candidate_name, venue, held_seq, created_at,
                    last_record_at FROM sessions WHERE exam = ?1 ORDER BY candidate, id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(SessionRow {
                    session: r.get(0)?,
                    device: r.get(1)?,
                    candidate: r.get(2)?,
                    candidate_name: r.get(3)?,
                    venue: r.get(4)?,
                    held_seq: r.get::<_, i64>(5)? as u64,
                    created_at: r.get(6)?,
                    last_record_at: r.get(7)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()> {
        let now = now.to_owned();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for f in &flags {
                insert_flag(&tx, f, &now)?;
            }
            tx.commit()
        })
        .await
    }

    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT exam, session, seq, kind, detail FROM flags WHERE exam = ?1
                 ORDER BY session, seq, id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(Flag {
                    exam: r.get(0)?,
                    session: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    kind: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn gaps(&self, exam: &str) -> StoreResult<Vec<(String, u64, u64)>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT s.id, s.held_seq, min(p.seq) FROM sessions s
                 JOIN pending p ON p.session = s.id WHERE s.exam = ?1
                 GROUP BY s.id ORDER BY s.id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64 + 1,
                    r.get::<_, i64>(2)? as u64 - 1,
                ))
            })?
            .collect()
        })
        .await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.with(|c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0).map(|n| n as u64));
            Ok(Counts {
                records: count("SELECT count(*) FROM records")?,
                sessions: count("SELECT count(*) FROM sessions")?,
                jobs_queued: count("SELECT count(*) FROM jobs WHERE state != 'done'")?,
                jobs_done: count("SELECT count(*) FROM jobs WHERE state = 'done'")?,
                flags: count("SELECT count(*) FROM flags")?,
            })
        })
        .await
    }
}
