//! The record log in SQLite: stored hashes by index (`log_hashes`) and the head
//! (`log_head`); a record's leaf index is on its row in `records`. Appending happens in the
//! writer's transaction that stores the records, so the log has one order.

use async_trait::async_trait;
use rusqlite::{Connection, params};
use sqlexam_core::tlog::{self, Hash};

use super::SqliteStore;
use crate::store::{StoreResult, Tlog};

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
pub(super) fn append_to_log(
    tx: &Connection,
    leaves: impl IntoIterator<Item = Hash>,
) -> rusqlite::Result<u64> {
    let (size, _) = log_head_in(tx)?;
    let needed = tlog::frontier(size);
    let known = needed
        .iter()
        .copied()
        .zip(log_hashes_in(tx, &needed)?)
        .collect();
    let appended = tlog::append(size, known, leaves)
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

#[async_trait]
impl Tlog for SqliteStore {
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
}
