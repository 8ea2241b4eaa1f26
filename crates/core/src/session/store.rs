//! The durable store: one SQLite database per installation (WAL, synchronous=FULL,
//! migrations by user_version). Opening runs an integrity check; a damaged store is refused
//! and never repaired or overwritten. The store is untrusted input too: records are
//! re-verified on open. Every SQL statement of the session engine is here, behind a typed
//! method; statements that must commit together run on one [`Tx`].

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{
    OutboxRecord, SessionError, SessionState, SessionSummary, SubmissionView, record_outcome,
};
use crate::record::{PackRef, SignedRecord};

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

/// The store, open for reading and writing by the engine (one process at a time).
pub(crate) struct Store {
    conn: Connection,
}

/// An immediate write transaction on the store: what runs on it commits together, or not
/// at all (see [`Store::write`]).
pub(crate) struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
}

/// A store file opened read-only, without recovery: safe while the app has it open.
pub(crate) struct ReadOnlyStore {
    conn: Connection,
    path: std::path::PathBuf,
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

/// A new session's row.
pub(crate) struct NewSession<'a> {
    pub id: &'a str,
    pub pack_hash: &'a str,
    pub start_code: Option<&'a str>,
    pub candidate_id: &'a str,
    pub candidate_name: &'a str,
    pub created_wall_ms: i64,
    pub duration_ms: u64,
}

pub(crate) fn store_err(e: rusqlite::Error) -> SessionError {
    SessionError::Store(e.to_string())
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
    SessionError::Store(format!("{}: {e}", path.display()))
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

    /// Runs `f` in an immediate write transaction, committed when `f` returns `Ok`
    /// (an `Err` rolls everything back).
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let tx = Tx {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_err)?,
        };
        let out = f(&tx)?;
        tx.tx.commit().map_err(store_err)?;
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

    /// Marks a session's records up to `seq` as acknowledged by the server.
    pub fn ack_through(&self, session: &str, seq: u64) -> Result<(), SessionError> {
        exec(
            &self.conn,
            "UPDATE records SET acked = 1 WHERE session_id = ?1 AND seq <= ?2",
            params![session, seq],
        )
        .map(drop)
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

impl Tx<'_> {
    /// A session's state, duration and stored exam time, read inside the transaction (so
    /// the caller acts on what it read).
    pub fn session_clock(&self, session: &str) -> Result<(SessionState, u64, u64), SessionError> {
        session_clock(&self.tx, session)
    }

    pub fn insert_pack(&self, pack: &PackRef) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "INSERT OR IGNORE INTO packs (hash, id, version) VALUES (?1, ?2, ?3)",
            params![pack.hash, pack.id, pack.version],
        )
        .map(drop)
    }

    /// A new running session, its clock at zero.
    pub fn insert_session(&self, s: &NewSession<'_>) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "INSERT INTO sessions (id, pack_hash, start_code, candidate_id, candidate_name, created_wall_ms,
             duration_ms, elapsed_ms, checkpoint_wall_ms, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?6, 'running')",
            params![
                s.id,
                s.pack_hash,
                s.start_code,
                s.candidate_id,
                s.candidate_name,
                s.created_wall_ms,
                s.duration_ms
            ],
        )
        .map(drop)
    }

    /// What every record of a session names: its pack and candidate (any failure reads as
    /// "no such session").
    pub fn pack_and_candidate(&self, session: &str) -> Result<(PackRef, String), SessionError> {
        self.tx
            .query_row(
                "SELECT p.id, p.version, p.hash, s.candidate_id FROM sessions s JOIN packs p ON p.hash = s.pack_hash WHERE s.id = ?1",
                [session],
                |r| {
                    Ok((
                        PackRef {
                            id: r.get(0)?,
                            version: r.get(1)?,
                            hash: r.get(2)?,
                        },
                        r.get(3)?,
                    ))
                },
            )
            .map_err(|_| SessionError::NoSession(session.into()))
    }

    /// The seq and bytes of a session's last record, if it has any.
    pub fn last_record(&self, session: &str) -> Result<Option<(u64, Vec<u8>)>, SessionError> {
        self.tx
            .query_row(
                "SELECT seq, bytes FROM records WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1",
                [session],
                |r| Ok((r.get::<_, u64>(0)?, bytes_at(r, 1)?)),
            )
            .optional()
            .map_err(store_err)
    }

    pub fn insert_record(
        &self,
        session: &str,
        seq: u64,
        record: &SignedRecord,
    ) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "INSERT INTO records (session_id, seq, bytes, signature) VALUES (?1, ?2, ?3, ?4)",
            params![session, seq, record.bytes, record.signature],
        )
        .map(drop)
    }

    /// Interrupts a session, whatever its state.
    pub fn interrupt(&self, session: &str) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET state = 'interrupted' WHERE id = ?1",
            [session],
        )
        .map(drop)
    }

    /// Sets a session's stored exam time and the wall time it was taken at.
    pub fn set_clock(
        &self,
        session: &str,
        elapsed_ms: u64,
        wall_ms: i64,
    ) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET elapsed_ms = ?2, checkpoint_wall_ms = ?3 WHERE id = ?1",
            params![session, elapsed_ms, wall_ms],
        )
        .map(drop)
    }

    pub fn set_elapsed(&self, session: &str, elapsed_ms: u64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET elapsed_ms = ?2 WHERE id = ?1",
            params![session, elapsed_ms],
        )
        .map(drop)
    }

    pub fn set_duration(&self, session: &str, duration_ms: u64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET duration_ms = ?2 WHERE id = ?1",
            params![session, duration_ms],
        )
        .map(drop)
    }

    /// Interrupts a session at `elapsed_ms` if it is still running; whether it was.
    pub fn interrupt_running(&self, session: &str, elapsed_ms: u64) -> Result<bool, SessionError> {
        let changed = exec(
            &self.tx,
            "UPDATE sessions SET state = 'interrupted', elapsed_ms = ?2 WHERE id = ?1 AND state = 'running'",
            params![session, elapsed_ms],
        )?;
        Ok(changed > 0)
    }

    /// Ends a session with its final exam time.
    pub fn end_session(&self, session: &str, elapsed_ms: u64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET state = 'ended', elapsed_ms = ?2 WHERE id = ?1",
            params![session, elapsed_ms],
        )
        .map(drop)
    }

    /// A session runs again from now (`wall_ms`).
    pub fn resume(&self, session: &str, wall_ms: i64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE sessions SET state = 'running', checkpoint_wall_ms = ?2 WHERE id = ?1",
            params![session, wall_ms],
        )
        .map(drop)
    }

    /// A new submission, queued for grading or (`queued` false) done at once; its id.
    pub fn insert_submission(
        &self,
        session: &str,
        problem: &str,
        sql: &str,
        elapsed_ms: u64,
        queued: bool,
    ) -> Result<u64, SessionError> {
        exec(
            &self.tx,
            "INSERT INTO submissions (session_id, problem, sql, elapsed_ms, state) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                session,
                problem,
                sql,
                elapsed_ms,
                if queued { "queued" } else { "done" }
            ],
        )?;
        Ok(self.tx.last_insert_rowid() as u64)
    }

    /// Points a submission at its record.
    pub fn set_record_seq(&self, submission: u64, seq: u64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE submissions SET record_seq = ?2 WHERE id = ?1",
            params![submission, seq],
        )
        .map(drop)
    }

    /// Whether a claim is still the one being graded: same owner, same attempt.
    pub fn still_claimed(&self, claim: &Claim, owner: &str) -> Result<bool, SessionError> {
        self.tx
            .query_row(
                "SELECT id FROM submissions WHERE id = ?1 AND state = 'grading' AND lease_owner = ?2 AND attempts = ?3",
                params![claim.submission, owner, claim.attempts],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|ours| ours.is_some())
            .map_err(store_err)
    }

    /// Marks a submission done, its verdict in record `seq`.
    pub fn mark_done(&self, submission: u64, seq: u64) -> Result<(), SessionError> {
        exec(
            &self.tx,
            "UPDATE submissions SET state = 'done', record_seq = ?2 WHERE id = ?1",
            params![submission, seq],
        )
        .map(drop)
    }

    /// Marks a claimed submission done if the claim is still `owner`'s; whether it was.
    pub fn mark_claim_done(
        &self,
        claim: &Claim,
        owner: &str,
        seq: u64,
    ) -> Result<bool, SessionError> {
        exec(
            &self.tx,
            "UPDATE submissions SET state = 'done', record_seq = ?2 WHERE id = ?1 AND lease_owner = ?3 AND attempts = ?4",
            params![claim.submission, seq, owner, claim.attempts],
        )
        .map(|changed| changed == 1)
    }
}

impl ReadOnlyStore {
    /// Opens a store file read-only (no recovery, no migration) after SQLite's check.
    pub fn open(path: &Path) -> Result<ReadOnlyStore, SessionError> {
        crate::sqlite::init();
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| db_error(path, e))?;
        quick_check(&conn, path)?;
        Ok(ReadOnlyStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// Every record, by session then seq, as stored.
    pub fn records(&self) -> Result<Vec<SignedRecord>, SessionError> {
        signed_records(&self.conn, |e| db_error(&self.path, e))
    }

    /// Every session with its pack and counts, oldest first; `score` is left at 0 (it
    /// comes from verified records, not from the table).
    pub fn summaries(&self) -> Result<Vec<SessionSummary>, SessionError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, p.id, p.version, s.candidate_id, s.candidate_name, s.state, s.elapsed_ms, s.duration_ms,
                 (SELECT count(*) FROM submissions WHERE session_id = s.id),
                 (SELECT count(*) FROM records WHERE session_id = s.id),
                 (SELECT count(*) FROM records WHERE session_id = s.id AND acked = 0)
                 FROM sessions s JOIN packs p ON p.hash = s.pack_hash ORDER BY s.created_wall_ms",
            )
            .map_err(store_err)?;
        let rows = stmt
            .query_map([], |r| {
                let state: String = r.get(5)?;
                Ok(SessionSummary {
                    id: r.get(0)?,
                    pack_id: r.get(1)?,
                    pack_version: r.get(2)?,
                    candidate_id: r.get(3)?,
                    candidate_name: r.get(4)?,
                    state: SessionState::parse(&state),
                    elapsed_ms: r.get(6)?,
                    duration_ms: r.get(7)?,
                    score: 0,
                    submissions: r.get(8)?,
                    records: r.get(9)?,
                    unsynced: r.get(10)?,
                })
            })
            .map_err(store_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(store_err)
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
