//! A store file read without changing it: what `sqlexam session show`, `verify` and
//! `export` read while the app may have the store open.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{db_error, quick_check, signed_records, store_err};
use crate::record::SignedRecord;
use crate::session::{SessionError, SessionState, SessionSummary};

/// A store file opened read-only, without recovery: safe while the app has it open.
pub(crate) struct ReadOnlyStore {
    conn: Connection,
    path: PathBuf,
}

impl ReadOnlyStore {
    /// Opens a store file read-only (no recovery, no migration) after SQLite's check.
    pub fn open(path: &Path) -> Result<ReadOnlyStore, SessionError> {
        crate::sqlite_ffi::init();
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| db_error(path, e))?;
        quick_check(&conn, path)?;
        Ok(ReadOnlyStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// Every time a server showed this machine a log contradicting its checkpoints:
    /// `(server key id, wall ms, message)`, oldest first.
    pub fn log_alerts(&self) -> Result<Vec<(String, i64, String)>, SessionError> {
        let e = |e| db_error(&self.path, e);
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'log_alerts'",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT server, at_wall_ms, message FROM log_alerts ORDER BY id")
            .map_err(e)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(e)?
            .collect::<rusqlite::Result<_>>()
            .map_err(e)
    }

    /// Every checkpoint and inclusion proof servers gave this device.
    pub fn receipts(
        &self,
    ) -> Result<(Vec<super::StoredCheckpoint>, Vec<super::StoredReceipt>), SessionError> {
        let e = |e| db_error(&self.path, e);
        if !super::receipts::has_tables(&self.conn).map_err(e)? {
            // A store of an earlier sqlexam, opened without migrating: no receipts yet.
            return Ok((Vec::new(), Vec::new()));
        }
        Ok((
            super::receipts::checkpoints(&self.conn).map_err(e)?,
            super::receipts::receipts(&self.conn).map_err(e)?,
        ))
    }

    /// `(url, public key hex)` of every server this device pinned.
    pub fn servers(&self) -> Result<Vec<(String, String)>, SessionError> {
        let e = |e| db_error(&self.path, e);
        if !super::receipts::has_tables(&self.conn).map_err(e)? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT url, public_key FROM log_servers ORDER BY url")
            .map_err(e)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(e)?
            .collect::<rusqlite::Result<_>>()
            .map_err(e)
    }

    /// `(session, seq)` of every record marked synced.
    pub fn acked(&self) -> Result<Vec<(String, u64)>, SessionError> {
        let e = |e| db_error(&self.path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT session_id, seq FROM records WHERE acked = 1")
            .map_err(e)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(e)?
            .collect::<rusqlite::Result<_>>()
            .map_err(e)
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
