//! The store's writes that must commit together: each runs on a [`Tx`] inside
//! [`Store::write`](super::Store::write).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Claim, bytes_at, exec, session_clock, store_err};
use crate::record::{PackRef, SignedRecord};
use crate::session::{SessionError, SessionState};

/// An immediate write transaction on the store: what runs on it commits together, or not
/// at all (see [`Store::write`](super::Store::write)).
pub(crate) struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
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

impl Tx<'_> {
    /// Begins an immediate transaction: the write lock is taken now, not at the first
    /// write.
    pub(super) fn begin(conn: &mut Connection) -> Result<Tx<'_>, SessionError> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map(|tx| Tx { tx })
            .map_err(store_err)
    }

    /// The transaction's connection, for the store's own modules.
    pub(super) fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(super) fn commit(self) -> Result<(), SessionError> {
        self.tx.commit().map_err(store_err)
    }

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
