//! The durable store: one SQLite database per installation (WAL, synchronous=FULL,
//! migrations by user_version). Opening runs an integrity check; a damaged store is refused
//! and never repaired or overwritten. The store is untrusted input too: records are
//! re-verified on open. Every SQL statement of the session engine is in this module, behind
//! a typed method: reads and single writes here, statements that must commit together on a
//! [`Tx`] (`store/tx.rs`), read-only access for the CLI in `store/read_only.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::views::record_outcome;
use super::{OutboxRecord, SessionError, SessionState, SubmissionView};
use crate::record::SignedRecord;

mod read_only;
mod receipts;
mod tx;

pub(crate) use read_only::ReadOnlyStore;
pub use receipts::{StoredCheckpoint, StoredReceipt};
pub(crate) use tx::{NewSession, Tx};

const SCHEMA_V1: &str = "
CREATE TABLE packs (
  hash TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  version TEXT NOT NULL
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  pack_hash TEXT NOT NULL REFERENCES packs(hash),
  start_code TEXT,
  candidate_id TEXT NOT NULL,
  candidate_name TEXT NOT NULL,
  created_wall_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  elapsed_ms INTEGER NOT NULL,
  checkpoint_wall_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'interrupted', 'ended'))
);
CREATE TABLE drafts (
  session_id TEXT NOT NULL REFERENCES sessions(id),
  problem TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (session_id, problem)
);
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  problem TEXT NOT NULL,
  sql TEXT NOT NULL,
  elapsed_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'grading', 'done')),
  lease_owner TEXT,
  lease_until_ms INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  record_seq INTEGER
);
CREATE INDEX submissions_by_state ON submissions (state, id);
CREATE TABLE records (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  signature BLOB NOT NULL,
  acked INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session_id, seq)
);
";

/// What the sync client keeps: the servers this device trusts (key pinned at first
/// contact), each server's checkpoints (with the consistency proof from the one before) and
/// the inclusion proof of every record a server holds. `acked` is set only together with a
/// record's proof (docs/sync.md).
const SCHEMA_V2: &str = "
CREATE TABLE log_servers (
  url TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  pinned_wall_ms INTEGER NOT NULL
);
CREATE TABLE log_checkpoints (
  server TEXT NOT NULL,
  size INTEGER NOT NULL,
  note TEXT NOT NULL,
  consistency TEXT NOT NULL,
  received_wall_ms INTEGER NOT NULL,
  PRIMARY KEY (server, size)
);
CREATE TABLE receipts (
  server TEXT NOT NULL,
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  leaf INTEGER NOT NULL,
  size INTEGER NOT NULL,
  proof TEXT NOT NULL,
  PRIMARY KEY (server, session_id, seq)
);
";

/// When a server showed this machine a log that does not extend the checkpoints it holds:
/// kept, so the proctor's export and report say so long after the sync status changed.
const SCHEMA_V3: &str = "
CREATE TABLE log_alerts (
  id INTEGER PRIMARY KEY,
  server TEXT NOT NULL,
  at_wall_ms INTEGER NOT NULL,
  message TEXT NOT NULL
);
";

/// Migrations, in order; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3];

/// The store, open for reading and writing by the engine (one process at a time).
pub(crate) struct Store {
    conn: Connection,
}

/// A claimed submission: the worker owns it until `lease_until_ms`.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub submission: u64,
    pub session: String,
    pub problem: String,
    pub sql: String,
    pub elapsed_ms: u64,
    pub attempts: u64,
}

/// Which submissions to list (each list oldest first).
pub(crate) enum Submissions<'a> {
    One(u64),
    OfSession(&'a str),
    OfProblem { session: &'a str, problem: &'a str },
}

/// A session as the sessions table holds it (`state` as written: the table is checked
/// against the chain, and an edited value must not pass for a known one).
pub(crate) struct TableSession {
    pub id: String,
    pub state: String,
    pub duration_ms: u64,
    pub elapsed_ms: u64,
}

/// A session that was running when the store was last written.
pub(crate) struct RunningSession {
    pub id: String,
    pub elapsed_ms: u64,
    pub duration_ms: u64,
    pub checkpoint_wall_ms: i64,
}

/// Which pack a session uses, how it was opened, and when the session started.
pub(crate) struct SessionPack {
    pub hash: String,
    pub start_code: Option<String>,
    pub created_wall_ms: i64,
}

pub(crate) fn store_err(e: rusqlite::Error) -> SessionError {
    SessionError::store("a database call", e)
}

/// Runs one statement; the rows it changed.
fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, SessionError> {
    conn.execute(sql, params).map_err(store_err)
}

fn db_error(path: &Path, e: rusqlite::Error) -> SessionError {
    SessionError::store(path.display(), e)
}

impl SessionState {
    fn parse(s: &str) -> SessionState {
        match s {
            "running" => SessionState::Running,
            "interrupted" => SessionState::Interrupted,
            _ => SessionState::Ended,
        }
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, SessionError> {
        crate::sqlite_ffi::init();
        let conn = Connection::open(path).map_err(|e| db_error(path, e))?;
        quick_check(&conn, path)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| db_error(path, e))?;
        if mode != "wal" {
            return Err(SessionError::store_says(format!(
                "{}: cannot use WAL mode ({mode})",
                path.display()
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(|e| db_error(path, e))?;
        crate::migrate::migrate(&conn, MIGRATIONS)
            .map_err(|e| SessionError::store(path.display(), e))?;
        Ok(Store { conn })
    }

    /// Runs `f` in an immediate write transaction, committed when `f` returns `Ok`
    /// (an `Err` rolls everything back).
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let tx = Tx::begin(&mut self.conn)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Every record, by session then seq, as stored.
    pub fn records(&self) -> Result<Vec<SignedRecord>, SessionError> {
        signed_records(&self.conn, store_err)
    }

    /// Every session as the table holds it.
    pub fn table_sessions(&self) -> Result<Vec<TableSession>, SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, duration_ms, elapsed_ms FROM sessions")
            .map_err(store_err)?;
        stmt.query_map([], |r| {
            Ok(TableSession {
                id: r.get(0)?,
                state: r.get(1)?,
                duration_ms: r.get(2)?,
                elapsed_ms: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(store_err)
    }

    /// The sessions that were running when the store was last written.
    pub fn running_sessions(&self) -> Result<Vec<RunningSession>, SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, elapsed_ms, duration_ms, checkpoint_wall_ms FROM sessions WHERE state = 'running'")
            .map_err(store_err)?;
        stmt.query_map([], |r| {
            Ok(RunningSession {
                id: r.get(0)?,
                elapsed_ms: r.get(1)?,
                duration_ms: r.get(2)?,
                checkpoint_wall_ms: r.get(3)?,
            })
        })
        .map_err(store_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store_err)
    }

    /// Session ids, newest first.
    pub fn session_ids(&self) -> Result<Vec<String>, SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM sessions ORDER BY created_wall_ms DESC")
            .map_err(store_err)?;
        stmt.query_map([], |r| r.get(0))
            .map_err(store_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(store_err)
    }

    /// The most recently started session, if any.
    pub fn latest_session(&self) -> Result<Option<String>, SessionError> {
        self.conn
            .query_row(
                "SELECT id FROM sessions ORDER BY created_wall_ms DESC, rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err)
    }

    /// A session's state, duration and stored exam time.
    pub fn session_clock(&self, session: &str) -> Result<(SessionState, u64, u64), SessionError> {
        session_clock(&self.conn, session)
    }

    /// A session's exam duration (with extensions).
    pub fn duration(&self, session: &str) -> Result<u64, SessionError> {
        self.conn
            .query_row(
                "SELECT duration_ms FROM sessions WHERE id = ?1",
                [session],
                |r| r.get(0),
            )
            .map_err(store_err)
    }

    /// A session's candidate: id and name.
    pub fn candidate(&self, session: &str) -> Result<(String, String), SessionError> {
        self.conn
            .query_row(
                "SELECT candidate_id, candidate_name FROM sessions WHERE id = ?1",
                [session],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(store_err)
    }

    /// The pack a session uses (any failure reads as "no such session").
    pub fn session_pack(&self, session: &str) -> Result<SessionPack, SessionError> {
        self.conn
            .query_row(
                "SELECT pack_hash, start_code, created_wall_ms FROM sessions WHERE id = ?1",
                [session],
                |r| {
                    Ok(SessionPack {
                        hash: r.get(0)?,
                        start_code: r.get(1)?,
                        created_wall_ms: r.get(2)?,
                    })
                },
            )
            .map_err(|_| SessionError::NoSession(session.into()))
    }

    /// Whether `candidate` already has a session on any version of pack `pack_id`.
    pub fn has_sat(&self, candidate: &str, pack_id: &str) -> Result<bool, SessionError> {
        let taken: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sessions s JOIN packs p ON p.hash = s.pack_hash WHERE s.candidate_id = ?1 AND p.id = ?2",
                params![candidate, pack_id],
                |r| r.get(0),
            )
            .map_err(store_err)?;
        Ok(taken > 0)
    }

    /// Writes a running session's exam time (only while it is still running).
    pub fn checkpoint(
        &self,
        session: &str,
        elapsed_ms: u64,
        wall_ms: i64,
    ) -> Result<(), SessionError> {
        exec(
            &self.conn,
            "UPDATE sessions SET elapsed_ms = ?2, checkpoint_wall_ms = ?3 WHERE id = ?1 AND state = 'running'",
            params![session, elapsed_ms, wall_ms],
        )
        .map(drop)
    }

    pub fn save_draft(&self, session: &str, problem: &str, text: &str) -> Result<(), SessionError> {
        exec(
            &self.conn,
            "INSERT INTO drafts (session_id, problem, text) VALUES (?1, ?2, ?3)
                 ON CONFLICT (session_id, problem) DO UPDATE SET text = excluded.text",
            params![session, problem, text],
        )
        .map(drop)
    }

    /// Every saved draft of a session, by problem.
    pub fn drafts(&self, session: &str) -> Result<BTreeMap<String, String>, SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT problem, text FROM drafts WHERE session_id = ?1")
            .map_err(store_err)?;
        let rows = stmt
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(store_err)
    }

    /// Submissions with the verdict their record gives, oldest first.
    pub fn submissions(&self, which: Submissions<'_>) -> Result<Vec<SubmissionView>, SessionError> {
        let (filter, args): (&str, Vec<&dyn rusqlite::ToSql>) = match &which {
            Submissions::One(id) => ("WHERE s.id = ?1", vec![id]),
            Submissions::OfSession(session) => ("WHERE s.session_id = ?1", vec![session]),
            Submissions::OfProblem { session, problem } => (
                "WHERE s.session_id = ?1 AND s.problem = ?2",
                vec![session, problem],
            ),
        };
        let sql = format!(
            "SELECT s.id, s.session_id, s.problem, s.sql, s.elapsed_ms, s.state, r.bytes FROM submissions s
             LEFT JOIN records r ON r.session_id = s.session_id AND r.seq = s.record_seq {filter} ORDER BY s.id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(store_err)?;
        let rows = stmt
            .query_map(args.as_slice(), |r| {
                let record: Option<Vec<u8>> = r.get(6)?;
                let (verdict, score, refused) = record_outcome(record.as_deref());
                Ok(SubmissionView {
                    id: r.get(0)?,
                    session: r.get(1)?,
                    problem: r.get(2)?,
                    sql: r.get(3)?,
                    elapsed_ms: r.get(4)?,
                    state: r.get(5)?,
                    verdict,
                    score,
                    refused,
                })
            })
            .map_err(store_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(store_err)
    }

    /// Submissions not yet done (queued or being graded).
    pub fn unfinished_submissions(&self) -> Result<u64, SessionError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM submissions WHERE state != 'done'",
                [],
                |r| r.get(0),
            )
            .map_err(store_err)
    }

    /// Takes the oldest submission that is queued, or whose lease has run out, for `owner`
    /// until `lease_until_ms`. Exactly one submission per claim.
    pub fn claim(
        &mut self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<Claim>, SessionError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store_err)?;
        let claim = tx
            .query_row(
                "SELECT id, session_id, problem, sql, elapsed_ms, attempts FROM submissions
                 WHERE state = 'queued' OR (state = 'grading' AND lease_until_ms < ?1)
                 ORDER BY id LIMIT 1",
                [now_ms],
                |r| {
                    Ok(Claim {
                        submission: r.get(0)?,
                        session: r.get(1)?,
                        problem: r.get(2)?,
                        sql: r.get(3)?,
                        elapsed_ms: r.get(4)?,
                        attempts: r.get::<_, u64>(5)? + 1,
                    })
                },
            )
            .optional()
            .map_err(store_err)?;
        if let Some(c) = &claim {
            tx.execute(
                "UPDATE submissions SET state = 'grading', lease_owner = ?2, lease_until_ms = ?3, attempts = ?4 WHERE id = ?1",
                params![c.submission, owner, lease_until_ms, c.attempts],
            )
            .map_err(store_err)?;
        }
        tx.commit().map_err(store_err)?;
        Ok(claim)
    }

    /// Moves the lease of `owner`'s claim on a submission to `lease_until_ms`.
    pub fn extend_lease(
        &self,
        submission: u64,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<(), SessionError> {
        exec(
            &self.conn,
            "UPDATE submissions SET lease_until_ms = ?2 WHERE id = ?1 AND lease_owner = ?3",
            params![submission, lease_until_ms, owner],
        )
        .map(drop)
    }

    /// Puts back claims held by owners other than `owner` (processes that died: the store
    /// has one live process at a time).
    pub fn requeue_foreign_claims(&self, owner: &str) -> Result<usize, SessionError> {
        exec(
            &self.conn,
            "UPDATE submissions SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL
                 WHERE state = 'grading' AND lease_owner IS NOT ?1",
            [owner],
        )
    }

    /// Records not yet acknowledged by a server, oldest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxRecord>, SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT session_id, seq, bytes, signature FROM records WHERE acked = 0 ORDER BY rowid LIMIT ?1")
            .map_err(store_err)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(OutboxRecord {
                    session: r.get(0)?,
                    seq: r.get(1)?,
                    record: SignedRecord {
                        bytes: bytes_at(r, 2)?,
                        signature: bytes_at(r, 3)?,
                    },
                })
            })
            .map_err(store_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(store_err)
    }

    /// A session's records not yet acknowledged by a server.
    pub fn unsynced(&self, session: &str) -> Result<usize, SessionError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM records WHERE session_id = ?1 AND acked = 0",
                [session],
                |r| r.get(0),
            )
            .map_err(store_err)
    }
}

/// Every record on `conn`, by session then seq; `prepare_err` describes a store that has
/// no records table.
fn signed_records(
    conn: &Connection,
    prepare_err: impl Fn(rusqlite::Error) -> SessionError,
) -> Result<Vec<SignedRecord>, SessionError> {
    let mut stmt = conn
        .prepare("SELECT bytes, signature FROM records ORDER BY session_id, seq")
        .map_err(prepare_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SignedRecord {
                bytes: bytes_at(r, 0)?,
                signature: bytes_at(r, 1)?,
            })
        })
        .map_err(store_err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(store_err)
}

/// A session's state, duration and stored exam time (any failure reads as "no such
/// session").
fn session_clock(
    conn: &Connection,
    session: &str,
) -> Result<(SessionState, u64, u64), SessionError> {
    let (state, duration, elapsed): (String, u64, u64) = conn
        .query_row(
            "SELECT state, duration_ms, elapsed_ms FROM sessions WHERE id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|_| SessionError::NoSession(session.into()))?;
    Ok((SessionState::parse(&state), duration, elapsed))
}

/// A BLOB column read as bytes, accepting TEXT too: a store edited by hand may hold either,
/// and verification (not the reader) is what should object.
fn bytes_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Vec<u8>> {
    Ok(row.get_ref(i)?.as_bytes()?.to_vec())
}

/// SQLite's own consistency check; a damaged file is refused, never repaired.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), SessionError> {
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| SessionError::Damaged(format!("{}: {e}", path.display())))?;
    if check == "ok" {
        Ok(())
    } else {
        Err(SessionError::Damaged(format!(
            "{}: {check}",
            path.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        store
            .conn
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO sessions VALUES ('s', 'h', NULL, 'c', '', 0, 60000, 0, 0, 'running');",
            )
            .unwrap();
        for i in 0..n {
            store
                .conn
                .execute("INSERT INTO submissions (session_id, problem, sql, elapsed_ms, state) VALUES ('s', 'p', ?1, 0, 'queued')", [i.to_string()])
                .unwrap();
        }
        (dir, store)
    }

    #[test]
    fn a_claim_takes_exactly_one_submission_and_a_live_lease_keeps_others_off() {
        let (_dir, mut store) = store_with(2);
        let a = store.claim("worker-a", 1_000, 61_000).unwrap().unwrap();
        let b = store.claim("worker-b", 1_000, 61_000).unwrap().unwrap();
        assert_ne!(a.submission, b.submission, "one submission per claim");
        assert!(
            store.claim("worker-c", 30_000, 90_000).unwrap().is_none(),
            "both leases are live"
        );
    }

    #[test]
    fn a_claim_whose_worker_died_is_graded_again_after_its_lease() {
        let (_dir, mut store) = store_with(1);
        let first = store.claim("dead-worker", 1_000, 61_000).unwrap().unwrap();
        assert!(
            store
                .claim("live-worker", 60_999, 120_000)
                .unwrap()
                .is_none()
        );
        let again = store
            .claim("live-worker", 61_001, 121_000)
            .unwrap()
            .unwrap();
        assert_eq!(again.submission, first.submission);
        assert_eq!(
            again.attempts, 2,
            "the attempt counter tells the claims apart"
        );
    }

    #[test]
    fn claims_of_a_dead_process_are_requeued_on_open() {
        let (_dir, mut store) = store_with(1);
        store
            .claim("old-process", 1_000, i64::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(store.requeue_foreign_claims("new-process").unwrap(), 1);
        assert!(store.claim("new-process", 2_000, 62_000).unwrap().is_some());
    }
}
