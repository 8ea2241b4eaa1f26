//! What the store keeps of servers' receipts: pinned server keys, checkpoints and inclusion
//! proofs. A record is marked synced (`acked`) in the transaction that stores its proof, and
//! never otherwise.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, store_err};
use crate::session::SessionError;

/// A checkpoint as stored, with the consistency proof between it and the server's newest
/// checkpoint the device held when it came (either may be the larger; empty for the first,
/// or when the sizes were equal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub server: String,
    pub size: u64,
    pub note: String,
    pub consistency: Vec<String>,
    pub received_wall_ms: i64,
}

/// A record's inclusion proof as stored: record `seq` of `session` is leaf `leaf` of the
/// tree of `size` leaves (whose checkpoint is stored beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    pub server: String,
    pub session: String,
    pub seq: u64,
    pub leaf: u64,
    pub size: u64,
    pub proof: Vec<String>,
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn from_json(i: usize, text: String) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        server: r.get(0)?,
        size: r.get(1)?,
        note: r.get(2)?,
        consistency: from_json(3, r.get(3)?)?,
        received_wall_ms: r.get(4)?,
    })
}

const CHECKPOINT_COLUMNS: &str = "server, size, note, consistency, received_wall_ms";

/// Whether the store has the receipt tables (a store of an earlier sqlexam opened read-only
/// has not been migrated).
pub(crate) fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'receipts'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Every stored checkpoint, in the order they came (`sqlexam receipt verify`).
pub(crate) fn checkpoints(conn: &Connection) -> rusqlite::Result<Vec<StoredCheckpoint>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM log_checkpoints ORDER BY rowid"
    ))?;
    stmt.query_map([], checkpoint_row)?.collect()
}

/// Every stored inclusion proof, by server, session and seq.
pub(crate) fn receipts(conn: &Connection) -> rusqlite::Result<Vec<StoredReceipt>> {
    let mut stmt = conn.prepare(
        "SELECT server, session_id, seq, leaf, size, proof FROM receipts
         ORDER BY server, session_id, seq",
    )?;
    stmt.query_map([], |r| {
        Ok(StoredReceipt {
            server: r.get(0)?,
            session: r.get(1)?,
            seq: r.get(2)?,
            leaf: r.get(3)?,
            size: r.get(4)?,
            proof: from_json(5, r.get(5)?)?,
        })
    })?
    .collect()
}

impl Store {
    /// The key pinned for the server at `url` (hex), if any.
    pub fn pinned_server(&self, url: &str) -> Result<Option<String>, SessionError> {
        self.conn
            .query_row(
                "SELECT public_key FROM log_servers WHERE url = ?1",
                [url],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err)
    }

    /// Pins `public_key` (hex) for `url`; a pin, once made, is not replaced here.
    pub fn pin_server(&self, url: &str, public_key: &str, now_ms: i64) -> Result<(), SessionError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO log_servers (url, public_key, pinned_wall_ms)
                 VALUES (?1, ?2, ?3)",
                params![url, public_key, now_ms],
            )
            .map(drop)
            .map_err(store_err)
    }

    /// The largest checkpoint stored for server key `server`.
    pub fn newest_checkpoint(
        &self,
        server: &str,
    ) -> Result<Option<StoredCheckpoint>, SessionError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {CHECKPOINT_COLUMNS} FROM log_checkpoints WHERE server = ?1
                     ORDER BY size DESC LIMIT 1"
                ),
                [server],
                checkpoint_row,
            )
            .optional()
            .map_err(store_err)
    }

    /// The stored bytes of records `from..=to` of `session`, by seq.
    pub fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SessionError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, bytes FROM records WHERE session_id = ?1 AND seq BETWEEN ?2 AND ?3
                 ORDER BY seq",
            )
            .map_err(store_err)?;
        stmt.query_map(params![session, from, to], |r| {
            Ok((r.get(0)?, super::bytes_at(r, 1)?))
        })
        .map_err(store_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store_err)
    }

    /// Keeps that `server` (key id) showed a log contradicting this machine's checkpoints,
    /// once per distinct message.
    pub fn add_log_alert(
        &mut self,
        server: &str,
        at_wall_ms: i64,
        message: &str,
    ) -> Result<(), SessionError> {
        self.write(|tx| {
            tx.conn()
                .execute(
                    "INSERT INTO log_alerts (server, at_wall_ms, message)
                     SELECT ?1, ?2, ?3 WHERE NOT EXISTS
                       (SELECT 1 FROM log_alerts WHERE server = ?1 AND message = ?3)",
                    params![server, at_wall_ms, message],
                )
                .map_err(store_err)?;
            Ok(())
        })
    }

    /// In one transaction: stores `checkpoint` (if new) and the proofs, and marks each
    /// proven record synced. Returns how many records became synced.
    pub fn store_receipts(
        &mut self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SessionError> {
        self.write(|tx| {
            let conn = tx.conn();
            conn.execute(
                "INSERT INTO log_checkpoints (server, size, note, consistency, received_wall_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (server, size)
                 DO UPDATE SET received_wall_ms = max(received_wall_ms, excluded.received_wall_ms)",
                params![
                    checkpoint.server,
                    checkpoint.size,
                    checkpoint.note,
                    to_json(&checkpoint.consistency),
                    checkpoint.received_wall_ms
                ],
            )
            .map_err(store_err)?;
            let mut insert = conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO receipts (server, session_id, seq, leaf, size, proof)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(store_err)?;
            let mut ack = conn
                .prepare_cached(
                    "UPDATE records SET acked = 1 WHERE session_id = ?1 AND seq = ?2 AND acked = 0",
                )
                .map_err(store_err)?;
            let mut synced = 0;
            for p in proofs {
                insert
                    .execute(params![
                        p.server,
                        p.session,
                        p.seq,
                        p.leaf,
                        p.size,
                        to_json(&p.proof)
                    ])
                    .map_err(store_err)?;
                synced += ack.execute(params![p.session, p.seq]).map_err(store_err)?;
            }
            Ok(synced)
        })
    }

    /// For each session with records not yet synced: its first and last such seq.
    pub fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SessionError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT session_id, min(seq), max(seq) FROM records WHERE acked = 0
                 GROUP BY session_id ORDER BY session_id",
            )
            .map_err(store_err)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(store_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(store_err)
    }

    /// Records not yet synced, and when a checkpoint was last received (wall ms).
    pub fn sync_counts(&self) -> Result<(usize, Option<i64>), SessionError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM records WHERE acked = 0),
                        (SELECT max(received_wall_ms) FROM log_checkpoints)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(store_err)
    }
}
