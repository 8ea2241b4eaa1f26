//! The durable store: one SQLite database per installation (WAL, synchronous=FULL,
//! migrations by user_version). Opening runs an integrity check; a damaged store is refused
//! and never repaired or overwritten. The store is untrusted input too: records are
//! re-verified on open.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::SessionError;
use crate::record::{Event, ProctorAction, Record, SignedRecord};

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

/// Migrations, in order; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[SCHEMA_V1];

pub(crate) struct Store {
    pub conn: Connection,
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

fn db_error(path: &Path, e: rusqlite::Error) -> SessionError {
    SessionError::Store(format!("{}: {e}", path.display()))
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, SessionError> {
        crate::sqlite::init();
        let conn = Connection::open(path).map_err(|e| db_error(path, e))?;
        quick_check(&conn, path)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| db_error(path, e))?;
        if mode != "wal" {
            return Err(SessionError::Store(format!(
                "{}: cannot use WAL mode ({mode})",
                path.display()
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(|e| db_error(path, e))?;
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_error(path, e))?;
        if version > MIGRATIONS.len() {
            return Err(SessionError::Store(format!(
                "{}: written by a newer sqlexam (schema {version}); this one knows {}",
                path.display(),
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn
                .unchecked_transaction()
                .map_err(|e| db_error(path, e))?;
            tx.execute_batch(migration).map_err(|e| db_error(path, e))?;
            tx.pragma_update(None, "user_version", i + 1)
                .map_err(|e| db_error(path, e))?;
            tx.commit().map_err(|e| db_error(path, e))?;
        }
        Ok(Store { conn })
    }

    pub fn insert_record(
        conn: &Connection,
        session: &str,
        seq: u64,
        record: &SignedRecord,
    ) -> rusqlite::Result<()> {
        conn.execute(
            "INSERT INTO records (session_id, seq, bytes, signature) VALUES (?1, ?2, ?3, ?4)",
            params![session, seq, record.bytes, record.signature],
        )?;
        Ok(())
    }

    /// The sessions table must agree with the verified chain: a session the chain ended must
    /// not be running again, its time must be what its records allow, and its clock must not
    /// have gone back. Anything else means the table was edited.
    pub fn check_against_chain(&self, records: &[Record]) -> Result<(), SessionError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, duration_ms, elapsed_ms FROM sessions")
            .map_err(|e| SessionError::Store(e.to_string()))?;
        let rows: Vec<(String, String, u64, u64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| SessionError::Store(e.to_string()))?;
        let tampered =
            |id: &str, what: &str| Err(SessionError::Tampered(format!("session {id}: {what}")));
        for (id, state, duration, elapsed) in &rows {
            let chain: Vec<&Record> = records.iter().filter(|r| &r.session == id).collect();
            let Some(Event::SessionStarted { duration_ms, .. }) = chain.first().map(|r| &r.event)
            else {
                return tampered(id, "its records are missing");
            };
            let extended: u64 = chain
                .iter()
                .map(|r| match r.event {
                    Event::Proctor {
                        action: ProctorAction::Extend { minutes },
                        ..
                    } => u64::from(minutes) * 60_000,
                    _ => 0,
                })
                .sum();
            let ended = chain
                .iter()
                .any(|r| matches!(r.event, Event::SessionEnded { .. }));
            let last_elapsed = chain.iter().map(|r| r.elapsed_ms).max().unwrap_or(0);
            if ended && state != "ended" {
                return tampered(
                    id,
                    "its records say it ended, but the table says it goes on",
                );
            }
            if *duration != duration_ms + extended {
                return tampered(id, "its exam time differs from what its records allow");
            }
            if *elapsed < last_elapsed {
                return tampered(id, "its exam clock was set back");
            }
        }
        if let Some(r) = records
            .iter()
            .find(|r| !rows.iter().any(|(id, ..)| *id == r.session))
        {
            return tampered(
                &r.session,
                "records exist for a session the table does not have",
            );
        }
        Ok(())
    }

    /// Every record, by session then seq, as stored.
    pub fn all_records(&self) -> rusqlite::Result<Vec<(String, u64, SignedRecord, bool)>> {
        let mut stmt = self.conn.prepare(
            "SELECT session_id, seq, bytes, signature, acked FROM records ORDER BY session_id, seq",
        )?;
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                SignedRecord {
                    bytes: bytes_at(r, 2)?,
                    signature: bytes_at(r, 3)?,
                },
                r.get(4)?,
            ))
        })?
        .collect()
    }

    /// Takes the oldest submission that is queued, or whose lease has run out, for `owner`
    /// until `lease_until_ms`. Exactly one submission per claim.
    pub fn claim(
        &mut self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> rusqlite::Result<Option<Claim>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
            .optional()?;
        if let Some(c) = &claim {
            tx.execute(
                "UPDATE submissions SET state = 'grading', lease_owner = ?2, lease_until_ms = ?3, attempts = ?4 WHERE id = ?1",
                params![c.submission, owner, lease_until_ms, c.attempts],
            )?;
        }
        tx.commit()?;
        Ok(claim)
    }

    /// Puts back claims held by owners other than `owner` (processes that died: the store
    /// has one live process at a time).
    pub fn requeue_foreign_claims(&self, owner: &str) -> rusqlite::Result<usize> {
        self.conn.execute(
            "UPDATE submissions SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL
             WHERE state = 'grading' AND lease_owner IS NOT ?1",
            [owner],
        )
    }
}

/// A BLOB column read as bytes, accepting TEXT too: a store edited by hand may hold either,
/// and verification (not the reader) is what should object.
pub(crate) fn bytes_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Vec<u8>> {
    Ok(row.get_ref(i)?.as_bytes()?.to_vec())
}

/// SQLite's own consistency check; a damaged file is refused, never repaired.
pub(crate) fn quick_check(conn: &Connection, path: &Path) -> Result<(), SessionError> {
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
