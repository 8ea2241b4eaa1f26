//! The backend for scale: PostgreSQL through a connection pool (tokio-postgres and
//! deadpool-postgres). Several server processes share one database: a session's batch locks
//! its session row (`FOR UPDATE`), so two processes never apply records of one session at
//! once, and re-grade workers claim jobs with `FOR UPDATE SKIP LOCKED`, so no two claim one.

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use sqlexam_core::grade::Verdict;
use sqlexam_core::record::GENESIS;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::{
    Checks, Counts, Flag, Job, JobResult, MAX_ATTEMPTS, PackFacts, Role, SessionRow, Store,
    StoreError, StoreResult, StoredPack, SubmissionRow, effects, gave_up, parse_verdict,
    regrade_flag, verdict_text,
};
use crate::ingest::{Held, Incoming, Plan, SessionFacts, plan};
use crate::log;
use sqlexam_core::log::Hash;

/// Each migration runs once, in order, under an advisory lock (processes may start at once).
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
    held_seq BIGINT NOT NULL,
    head TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_record_at TEXT NOT NULL
);
CREATE INDEX sessions_exam ON sessions (exam);
CREATE TABLE records (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE pending (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    prev TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq, hash)
);
CREATE TABLE evidence (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (session, seq, hash)
);
CREATE TABLE submissions (
    session TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    problem TEXT NOT NULL,
    sql TEXT NOT NULL,
    submitted_ms BIGINT NOT NULL,
    device_verdict TEXT NOT NULL,
    device_score BIGINT NOT NULL,
    max_score BIGINT NOT NULL,
    server_verdict TEXT,
    server_score BIGINT,
    server_error TEXT,
    graded_at TEXT,
    PRIMARY KEY (session, seq)
);
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    session TEXT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'done')),
    worker TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session, seq)
);
CREATE INDEX jobs_ready ON jobs (state, lease_until_ms);
CREATE TABLE flags (
    id BIGSERIAL PRIMARY KEY,
    exam TEXT NOT NULL,
    session TEXT NOT NULL,
    seq BIGINT NOT NULL,
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
    bytes BYTEA NOT NULL,
    start_code TEXT,
    proctor_key TEXT,
    uploaded_at TEXT NOT NULL,
    seq BIGSERIAL,
    UNIQUE (exam, version)
);
",
    r"
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
",
    r"
ALTER TABLE sessions ADD COLUMN venue TEXT NOT NULL DEFAULT '';
",
];

/// Job claims and verdicts commit without waiting for the WAL flush: one lost in a crash
/// leaves its job claimed, and it is graded again when the lease runs out. Records and
/// receipts always wait.
const JOB_COMMIT: &str = "SET LOCAL synchronous_commit = off";

/// An arbitrary constant: the advisory lock migrations hold.
const MIGRATION_LOCK: i64 = 0x5351_4c65_7861_6d01;

pub struct PgStore {
    pool: Pool,
}

fn err(e: tokio_postgres::Error) -> StoreError {
    let retryable = match e.code() {
        Some(code) => [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code),
        // No SQL state: the connection itself failed, which a retry may not meet again.
        None => true,
    };
    StoreError {
        message: e.to_string(),
        retryable,
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError {
        message: format!("no database connection: {e}"),
        retryable: true,
    }
}

const PACK_COLUMNS: &str = "hash, exam, version, bytes, start_code, proctor_key, uploaded_at";

/// A pack's columns but its bytes.
const FACT_COLUMNS: &str = "hash, exam, version, start_code, proctor_key";

fn pack_row(r: &tokio_postgres::Row) -> PackFacts {
    PackFacts {
        hash: r.get(0),
        exam: r.get(1),
        version: r.get(2),
        start_code: r.get(3),
        proctor_key: r.get(4),
    }
}

async fn insert_flags(
    tx: &deadpool_postgres::Transaction<'_>,
    flags: &[Flag],
    now: &str,
) -> StoreResult<()> {
    for f in flags {
        tx.execute(
            "INSERT INTO flags (exam, session, seq, kind, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &f.exam,
                &f.session,
                &(f.seq as i64),
                &f.kind,
                &f.detail,
                &now,
            ],
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

fn hash_of(bytes: &[u8]) -> StoreResult<Hash> {
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| StoreError::fatal("a log hash in the database is not 32 bytes"))
}

async fn log_hashes_in(
    client: &impl tokio_postgres::GenericClient,
    indexes: &[u64],
) -> StoreResult<Vec<Hash>> {
    let wanted: Vec<i64> = indexes.iter().map(|&i| i as i64).collect();
    let rows = client
        .query(
            "SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)",
            &[&wanted],
        )
        .await
        .map_err(err)?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        found.insert(r.get::<_, i64>(0) as u64, hash_of(r.get(1))?);
    }
    indexes
        .iter()
        .map(|i| {
            found
                .get(i)
                .copied()
                .ok_or_else(|| StoreError::fatal(format!("the record log lacks stored hash {i}")))
        })
        .collect()
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates the schema.
    pub async fn connect(url: &str, max_connections: usize) -> StoreResult<PgStore> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::fatal(format!("not a PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .build()
            .map_err(|e| StoreError::fatal(format!("cannot make a connection pool: {e}")))?;
        let store = PgStore { pool };
        store.migrate().await?;
        store.sequence_pending().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await
            .map_err(err)?;
        let version: i32 = tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await
            .map_err(err)?
            .map_or(0, |r| r.get(0));
        let known = MIGRATIONS.len() as i32;
        if version > known {
            return Err(StoreError::fatal(format!(
                "the database was made by a newer sqlexam (schema {version}, this one knows {known})"
            )));
        }
        for migration in &MIGRATIONS[version as usize..] {
            tx.batch_execute(migration).await.map_err(err)?;
        }
        tx.execute("DELETE FROM schema_version", &[])
            .await
            .map_err(err)?;
        tx.execute("INSERT INTO schema_version VALUES ($1)", &[&known])
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)
    }

    /// Gives every queued record its leaf, in one transaction under the log head's lock
    /// (see [`Store::sequence`]); returns the head after it. Records are queued (with their
    /// leaf hash) by the transaction that stores them, so batches commit side by side and
    /// the log is written once for many of them; nothing in `records` is ever updated.
    async fn sequence_pending(&self) -> StoreResult<(u64, Hash)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let head = tx
            .query_one(
                "SELECT size, root FROM log_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(err)?;
        let size = head.get::<_, i64>(0) as u64;
        // Taken after the lock: every record queued before now, by any process.
        let mut queued: Vec<(i64, String, i64, Hash)> = Vec::new();
        for r in tx
            .query(
                "DELETE FROM log_queue RETURNING id, session, seq, hash",
                &[],
            )
            .await
            .map_err(err)?
        {
            queued.push((r.get(0), r.get(1), r.get(2), hash_of(r.get(3))?));
        }
        if queued.is_empty() {
            return Ok((size, hash_of(head.get(1))?));
        }
        queued.sort_unstable_by_key(|q| q.0);
        let needed = log::frontier(size);
        let known = needed
            .iter()
            .copied()
            .zip(log_hashes_in(&*tx, &needed).await?)
            .collect();
        let appended = log::append(size, known, queued.iter().map(|q| q.3))?;
        let leaves: Vec<i64> = (0..queued.len() as i64).map(|k| size as i64 + k).collect();
        let sessions: Vec<&str> = queued.iter().map(|q| q.1.as_str()).collect();
        let seqs: Vec<i64> = queued.iter().map(|q| q.2).collect();
        let (idx, hashes): (Vec<i64>, Vec<&[u8]>) = appended
            .hashes
            .iter()
            .map(|(i, h)| (*i as i64, &h.0[..]))
            .unzip();
        // One statement for the whole append: a round trip less while the lock is held.
        tx.execute(
            "WITH leaves AS (
                 INSERT INTO log_leaves (leaf, session, seq)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[])
             ), hashes AS (
                 INSERT INTO log_hashes (idx, hash) SELECT * FROM UNNEST($4::BIGINT[], $5::BYTEA[])
             )
             UPDATE log_head SET size = $6, root = $7 WHERE id = 1",
            &[
                &leaves,
                &sessions,
                &seqs,
                &idx,
                &hashes,
                &(appended.size as i64),
                &&appended.root.0[..],
            ],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok((appended.size, appended.root))
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Stores a verdict in `tx` (see [`Store::next_job`]).
async fn finish_in(tx: &deadpool_postgres::Transaction<'_>, result: &JobResult) -> StoreResult<()> {
    let seq = result.seq as i64;
    tx.execute(
        "UPDATE submissions SET server_verdict = $3, server_score = $4, server_error = $5,
            graded_at = $6 WHERE session = $1 AND seq = $2",
        &[
            &result.session,
            &seq,
            &result.verdict.map(verdict_text),
            &result.verdict.map(|_| i64::from(result.score)),
            &result.error,
            &result.graded_at,
        ],
    )
    .await
    .map_err(err)?;
    tx.execute(
        "UPDATE jobs SET state = 'done' WHERE id = $1",
        &[&result.id],
    )
    .await
    .map_err(err)?;
    let row = tx
        .query_one(
            "SELECT s.exam, b.device_verdict, b.device_score FROM submissions b
             JOIN sessions s ON s.id = b.session WHERE b.session = $1 AND b.seq = $2",
            &[&result.session, &seq],
        )
        .await
        .map_err(err)?;
    let (exam, device_verdict, device_score): (String, String, i64) =
        (row.get(0), row.get(1), row.get(2));
    if let Some(flag) = regrade_flag(exam, result, &device_verdict, device_score as u32) {
        insert_flags(tx, &[flag], &result.graded_at).await?;
    }
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, device, public_key, candidate, candidate_name, exam, pack_hash
                 FROM sessions WHERE id = $1",
                &[&session],
            )
            .await
            .map_err(err)?;
        Ok(row.map(|r| SessionFacts {
            session: r.get(0),
            device: r.get(1),
            public_key: r.get(2),
            candidate: r.get(3),
            candidate_name: r.get(4),
            exam: r.get(5),
            pack_hash: r.get(6),
        }))
    }

    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
    ) -> StoreResult<Plan> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let new_session = tx
            .execute(
                "INSERT INTO sessions (id, device, public_key, candidate, candidate_name, exam,
                    pack_hash, held_seq, head, created_at, last_record_at, venue)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9, $10) ON CONFLICT (id) DO NOTHING",
                &[
                    &facts.session,
                    &facts.device,
                    &facts.public_key,
                    &facts.candidate,
                    &facts.candidate_name,
                    &facts.exam,
                    &facts.pack_hash,
                    &GENESIS,
                    &now,
                    &checks.venue,
                ],
            )
            .await
            .map_err(err)?
            == 1;
        // The row lock serializes batches of one session across server processes.
        let row = tx
            .query_one(
                "SELECT held_seq, head, public_key FROM sessions WHERE id = $1 FOR UPDATE",
                &[&facts.session],
            )
            .await
            .map_err(err)?;
        if row.get::<_, &str>(2) != facts.public_key {
            // Another first record won a race for this new session.
            return Err(StoreError {
                message: format!(
                    "session {} was started at the same moment by another first record: send again",
                    facts.session
                ),
                retryable: true,
            });
        }
        let mut held = Held {
            seq: row.get::<_, i64>(0) as u64,
            head: row.get(1),
            ..Held::default()
        };
        let below: Vec<i64> = incoming
            .iter()
            .filter(|r| r.seq <= held.seq)
            .map(|r| r.seq as i64)
            .collect();
        if !below.is_empty() {
            for r in tx
                .query(
                    "SELECT seq, hash FROM records WHERE session = $1 AND seq = ANY($2)",
                    &[&facts.session, &below],
                )
                .await
                .map_err(err)?
            {
                held.stored.insert(r.get::<_, i64>(0) as u64, r.get(1));
            }
        }
        held.pending = tx
            .query(
                "SELECT seq, prev, hash, bytes, signature FROM pending WHERE session = $1",
                &[&facts.session],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| Incoming {
                seq: r.get::<_, i64>(0) as u64,
                prev: r.get(1),
                hash: r.get(2),
                bytes: r.get(3),
                signature: r.get(4),
            })
            .collect();
        let plan = plan(&held, &incoming);
        let effects = effects(facts, &plan, checks, new_session);

        // Whole lists per statement (UNNEST), so a batch costs a few round trips.
        fn columns<'a>(
            records: impl Iterator<Item = &'a Incoming>,
        ) -> (
            Vec<i64>,
            Vec<&'a str>,
            Vec<&'a [u8]>,
            Vec<&'a [u8]>,
            Vec<&'a str>,
        ) {
            let mut c = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for r in records {
                c.0.push(r.seq as i64);
                c.1.push(r.hash.as_str());
                c.2.push(r.bytes.as_slice());
                c.3.push(r.signature.as_slice());
                c.4.push(r.prev.as_str());
            }
            c
        }
        for (kind, r) in &plan.forks {
            tx.execute(
                "INSERT INTO evidence (session, seq, hash, kind, bytes, signature, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &facts.session,
                    &(r.seq as i64),
                    &r.hash,
                    &kind.code(),
                    &r.bytes,
                    &r.signature,
                    &now,
                ],
            )
            .await
            .map_err(err)?;
        }
        if !plan.hold.is_empty() {
            let (seqs, hashes, bytes, signatures, prevs) = columns(plan.hold.iter());
            tx.execute(
                "INSERT INTO pending (session, seq, hash, prev, bytes, signature, received_at)
                 SELECT $1, s, h, p, b, g, $7 FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BYTEA[], $6::BYTEA[]) AS t (s, h, p, b, g)
                 ON CONFLICT DO NOTHING",
                &[&facts.session, &seqs, &hashes, &prevs, &bytes, &signatures, &now],
            )
            .await
            .map_err(err)?;
        }
        for (seq, hash) in &plan.release {
            tx.execute(
                "DELETE FROM pending WHERE session = $1 AND seq = $2 AND hash = $3",
                &[&facts.session, &(*seq as i64), hash],
            )
            .await
            .map_err(err)?;
        }
        if !effects.submissions.is_empty() {
            let s = &effects.submissions;
            let seqs: Vec<i64> = s.iter().map(|s| s.seq as i64).collect();
            let problems: Vec<&str> = s.iter().map(|s| s.problem.as_str()).collect();
            let sqls: Vec<&str> = s.iter().map(|s| s.sql.as_str()).collect();
            let at: Vec<i64> = s.iter().map(|s| s.submitted_ms as i64).collect();
            let verdicts: Vec<String> = s.iter().map(|s| verdict_text(s.verdict)).collect();
            let scores: Vec<i64> = s.iter().map(|s| i64::from(s.score)).collect();
            let max: Vec<i64> = s.iter().map(|s| i64::from(s.max_score)).collect();
            tx.execute(
                "INSERT INTO submissions (session, seq, problem, sql, submitted_ms, device_verdict,
                    device_score, max_score)
                 SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[],
                    $6::TEXT[], $7::BIGINT[], $8::BIGINT[])",
                &[
                    &facts.session,
                    &seqs,
                    &problems,
                    &sqls,
                    &at,
                    &verdicts,
                    &scores,
                    &max,
                ],
            )
            .await
            .map_err(err)?;
            tx.execute(
                "INSERT INTO jobs (session, seq, state) SELECT $1, s, 'queued' FROM UNNEST($2::BIGINT[]) AS t (s)",
                &[&facts.session, &seqs],
            )
            .await
            .map_err(err)?;
        }
        insert_flags(&tx, &effects.flags, now).await?;
        tx.execute(
            "UPDATE sessions SET held_seq = $2, head = $3, last_record_at = $4 WHERE id = $1",
            &[&facts.session, &(plan.seq as i64), &plan.head, &now],
        )
        .await
        .map_err(err)?;
        if !plan.append.is_empty() {
            // In the log once sequenced (`Store::sequence`), after this commits.
            let (seqs, hashes, bytes, signatures, _) = columns(plan.append.iter());
            tx.execute(
                "INSERT INTO records (session, seq, hash, bytes, signature, received_at)
                 SELECT $1, s, h, b, g, $6 FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::BYTEA[], $5::BYTEA[]) AS t (s, h, b, g)",
                &[&facts.session, &seqs, &hashes, &bytes, &signatures, &now],
            )
            .await
            .map_err(err)?;
            let leaf_hashes: Vec<[u8; 32]> = plan
                .append
                .iter()
                .map(|r| log::leaf_hash(&r.bytes).0)
                .collect();
            let leaf_hashes: Vec<&[u8]> = leaf_hashes.iter().map(|h| &h[..]).collect();
            tx.execute(
                "INSERT INTO log_queue (session, seq, hash)
                 SELECT $1, s, h FROM UNNEST($2::BIGINT[], $3::BYTEA[]) AS t (s, h)",
                &[&facts.session, &seqs, &leaf_hashes],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(plan)
    }

    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt("SELECT held_seq FROM sessions WHERE id = $1", &[&session])
            .await
            .map_err(err)?
        else {
            return Ok(None);
        };
        let pending = client
            .query(
                "SELECT DISTINCT seq FROM pending WHERE session = $1 ORDER BY seq",
                &[&session],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect();
        Ok(Some((row.get::<_, i64>(0) as u64, pending)))
    }

    async fn sequence(&self) -> StoreResult<(u64, Hash)> {
        self.sequence_pending().await
    }

    async fn log_head(&self) -> StoreResult<(u64, Hash)> {
        let row = self
            .client()
            .await?
            .query_one("SELECT size, root FROM log_head WHERE id = 1", &[])
            .await
            .map_err(err)?;
        Ok((row.get::<_, i64>(0) as u64, hash_of(row.get(1))?))
    }

    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>> {
        let client = self.client().await?;
        log_hashes_in(&**client, &indexes).await
    }

    async fn leaves(&self, session: &str, from: u64, to: u64) -> StoreResult<Vec<(u64, u64)>> {
        Ok(self
            .client()
            .await?
            .query(
                "SELECT seq, leaf FROM log_leaves WHERE session = $1 AND seq BETWEEN $2 AND $3
                 ORDER BY seq",
                &[&session, &(from as i64), &(to as i64)],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64))
            .collect())
    }

    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO tokens (hash, role, label, created_at) VALUES ($1, $2, $3, $4)",
                &[&hash, &role.as_str(), &label, &now],
            )
            .await
            .map_err(err)
            .map(|_| ())
    }

    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT role, label FROM tokens WHERE hash = $1", &[&hash])
            .await
            .map_err(err)?;
        Ok(row.and_then(|r| Some((Role::parse(r.get(0))?, r.get(1)))))
    }

    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        // Serializes uploads of one exam across processes.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&pack.exam])
            .await
            .map_err(err)?;
        let held: Option<String> = tx
            .query_opt(
                "SELECT hash FROM packs WHERE exam = $1 AND version = $2",
                &[&pack.exam, &pack.version],
            )
            .await
            .map_err(err)?
            .map(|r| r.get(0));
        let outcome = match held {
            Some(hash) if hash != pack.hash => Err(hash),
            Some(_) => {
                tx.execute(
                    "UPDATE packs SET start_code = $2 WHERE hash = $1",
                    &[&pack.hash, &pack.start_code],
                )
                .await
                .map_err(err)?;
                Ok(())
            }
            None => {
                tx.execute(
                    &format!(
                        "INSERT INTO packs ({PACK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ),
                    &[
                        &pack.hash,
                        &pack.exam,
                        &pack.version,
                        &pack.bytes,
                        &pack.start_code,
                        &pack.proctor_key,
                        &pack.uploaded_at,
                    ],
                )
                .await
                .map_err(err)?;
                Ok(())
            }
        };
        tx.commit().await.map_err(err)?;
        Ok(outcome)
    }

    async fn requeue_waiting(&self, hash: &str) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let marker = crate::regrade::WAITING_FOR_PACK;
        let waiting = "SELECT b.session, b.seq FROM submissions b
            JOIN sessions s ON s.id = b.session
            WHERE s.pack_hash = $1 AND b.server_verdict IS NULL
              AND b.server_error LIKE $2 || '%'";
        let n = tx
            .execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', attempts = 0, lease_until_ms = 0
                     WHERE state = 'done' AND (session, seq) IN ({waiting})"
                ),
                &[&hash, &marker],
            )
            .await
            .map_err(err)?;
        tx.execute(
            &format!(
                "UPDATE submissions SET server_error = NULL, graded_at = NULL
                 WHERE (session, seq) IN ({waiting})"
            ),
            &[&hash, &marker],
        )
        .await
        .map_err(err)?;
        tx.execute(
            "DELETE FROM flags WHERE kind = 'ungradable' AND detail LIKE '%' || $2 || '%'
               AND session IN (SELECT id FROM sessions WHERE pack_hash = $1)",
            &[&hash, &marker],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(n)
    }

    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {FACT_COLUMNS} FROM packs WHERE exam = $1 ORDER BY seq DESC LIMIT 1"
                ),
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(row.as_ref().map(pack_row))
    }

    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {FACT_COLUMNS} FROM packs WHERE hash = $1"),
                &[&hash],
            )
            .await
            .map_err(err)?;
        Ok(row.as_ref().map(pack_row))
    }

    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT bytes FROM packs WHERE hash = $1", &[&hash])
            .await
            .map_err(err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn exams(&self) -> StoreResult<Vec<(String, String, String)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT DISTINCT ON (exam) exam, version, hash FROM packs ORDER BY exam, seq DESC",
                &[],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    async fn next_job(
        &self,
        done: Option<&JobResult>,
        worker: &str,
        lease_ms: u64,
        now_ms: i64,
    ) -> StoreResult<Option<Job>> {
        if let Some(result) = done {
            self.finish_job(result).await?;
        }
        let mut client = self.client().await?;
        loop {
            let tx = client.transaction().await.map_err(err)?;
            tx.batch_execute(JOB_COMMIT).await.map_err(err)?;
            let Some(row) = tx
                .query_opt(
                    "UPDATE jobs SET state = 'claimed', worker = $1, lease_until_ms = $2 + $3,
                        attempts = attempts + 1
                     WHERE id = (SELECT id FROM jobs
                                 WHERE state = 'queued' OR (state = 'claimed' AND lease_until_ms < $2)
                                 ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                     RETURNING id, session, seq, attempts",
                    &[&worker, &now_ms, &(lease_ms as i64)],
                )
                .await
                .map_err(err)?
            else {
                tx.commit().await.map_err(err)?;
                return Ok(None);
            };
            let (id, session, seq, attempts): (i64, String, i64, i32) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let detail = tx
                .query_one(
                    "SELECT s.pack_hash, b.problem, b.sql, s.exam FROM submissions b
                     JOIN sessions s ON s.id = b.session WHERE b.session = $1 AND b.seq = $2",
                    &[&session, &seq],
                )
                .await
                .map_err(err)?;
            if attempts as u32 > MAX_ATTEMPTS {
                tx.execute("UPDATE jobs SET state = 'done' WHERE id = $1", &[&id])
                    .await
                    .map_err(err)?;
                insert_flags(
                    &tx,
                    &[gave_up(detail.get(3), session, seq as u64)],
                    &sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc()),
                )
                .await?;
                tx.commit().await.map_err(err)?;
                continue;
            }
            tx.commit().await.map_err(err)?;
            return Ok(Some(Job {
                id,
                session,
                seq: seq as u64,
                pack_hash: detail.get(0),
                problem: detail.get(1),
                sql: detail.get(2),
            }));
        }
    }

    async fn finish_job(&self, done: &JobResult) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        tx.batch_execute(JOB_COMMIT).await.map_err(err)?;
        finish_in(&tx, done).await?;
        tx.commit().await.map_err(err)
    }

    async fn release_job(&self, id: i64) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE jobs SET state = 'queued', lease_until_ms = 0 WHERE id = $1 AND state = 'claimed'",
                &[&id],
            )
            .await
            .map_err(err)
            .map(|_| ())
    }

    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT b.session, b.seq, s.candidate, s.candidate_name, b.problem,
                        b.submitted_ms, b.device_verdict, b.device_score, b.max_score,
                        b.server_verdict, b.server_score, b.server_error
                 FROM submissions b JOIN sessions s ON s.id = b.session
                 WHERE s.exam = $1 ORDER BY s.candidate, b.problem, b.submitted_ms, b.seq",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| SubmissionRow {
                session: r.get(0),
                seq: r.get::<_, i64>(1) as u64,
                candidate: r.get(2),
                candidate_name: r.get(3),
                problem: r.get(4),
                submitted_ms: r.get::<_, i64>(5) as u64,
                device_verdict: parse_verdict(r.get(6)).unwrap_or(Verdict::Forbidden),
                device_score: r.get::<_, i64>(7) as u32,
                max_score: r.get::<_, i64>(8) as u32,
                server_verdict: r.get::<_, Option<&str>>(9).and_then(parse_verdict),
                server_score: r.get::<_, Option<i64>>(10).map(|s| s as u32),
                server_error: r.get(11),
            })
            .collect())
    }

    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, device, candidate, candidate_name, venue, held_seq, created_at,
                    last_record_at FROM sessions WHERE exam = $1 ORDER BY candidate, id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| SessionRow {
                session: r.get(0),
                device: r.get(1),
                candidate: r.get(2),
                candidate_name: r.get(3),
                venue: r.get(4),
                held_seq: r.get::<_, i64>(5) as u64,
                created_at: r.get(6),
                last_record_at: r.get(7),
            })
            .collect())
    }

    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        insert_flags(&tx, &flags, now).await?;
        tx.commit().await.map_err(err)
    }

    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT exam, session, seq, kind, detail FROM flags WHERE exam = $1
                 ORDER BY session, seq, id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| Flag {
                exam: r.get(0),
                session: r.get(1),
                seq: r.get::<_, i64>(2) as u64,
                kind: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }

    async fn gaps(&self, exam: &str) -> StoreResult<Vec<(String, u64, u64)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT s.id, s.held_seq, min(p.seq) FROM sessions s
                 JOIN pending p ON p.session = s.id WHERE s.exam = $1
                 GROUP BY s.id, s.held_seq ORDER BY s.id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get::<_, i64>(1) as u64 + 1,
                    r.get::<_, i64>(2) as u64 - 1,
                )
            })
            .collect())
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM sessions),
                        (SELECT count(*) FROM jobs WHERE state != 'done'),
                        (SELECT count(*) FROM jobs WHERE state = 'done'),
                        (SELECT count(*) FROM flags)",
                &[],
            )
            .await
            .map_err(err)?;
        let n = |i: usize| row.get::<_, i64>(i) as u64;
        Ok(Counts {
            records: n(0),
            sessions: n(1),
            jobs_queued: n(2),
            jobs_done: n(3),
            flags: n(4),
        })
    }
}
