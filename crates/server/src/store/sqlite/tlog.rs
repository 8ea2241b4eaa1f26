//! The record log in SQLite: stored hashes by index (`log_hashes`) and the head
//! (`log_head`); a record's leaf index is on its row in `records`. Appending happens in the
//! writer's transaction that stores the records, so the log has one order.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
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

/// Puts leaves (their hashes, in order) in the log in `tx` (the writer's transaction) and
/// returns each one's leaf index. A leaf the log already holds (the same record taken
/// again, say after its rows were lost) keeps its index: the log never holds it twice.
pub(super) fn append_to_log(
    tx: &Connection,
    leaves: impl IntoIterator<Item = Hash>,
) -> rusqlite::Result<Vec<u64>> {
    let (size, _) = log_head_in(tx)?;
    let mut held = tx.prepare_cached("SELECT leaf FROM log_leaf_index WHERE hash = ?1")?;
    let mut index_new =
        tx.prepare_cached("INSERT INTO log_leaf_index (hash, leaf) VALUES (?1, ?2)")?;
    let mut index = Vec::new();
    let mut new: Vec<Hash> = Vec::new();
    for leaf in leaves {
        let known = held
            .query_row([&leaf.0[..]], |r| r.get::<_, i64>(0))
            .optional()?;
        index.push(match known {
            Some(at) => at as u64,
            None => {
                // Indexed at once, so the same leaf later in this call is found above.
                let at = size + new.len() as u64;
                index_new.execute(params![&leaf.0[..], at as i64])?;
                new.push(leaf);
                at
            }
        });
    }
    append_new(tx, size, new)?;
    Ok(index)
}

/// Appends leaves the log does not hold yet to a log of `size` leaves.
fn append_new(tx: &Connection, size: u64, leaves: Vec<Hash>) -> rusqlite::Result<()> {
    let needed = tlog::frontier(size);
    let known = needed
        .iter()
        .copied()
        .zip(log_hashes_in(tx, &needed)?)
        .collect();
    let appended = tlog::append(size, known, leaves)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    if appended.size == size {
        return Ok(());
    }
    let mut hash = tx.prepare_cached("INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)")?;
    for (i, h) in &appended.hashes {
        hash.execute(params![*i as i64, &h.0[..]])?;
    }
    tx.execute(
        "UPDATE log_head SET size = ?1, root = ?2 WHERE id = 1",
        params![appended.size as i64, &appended.root.0[..]],
    )?;
    Ok(())
}

/// Indexes the leaves of a log written before the index existed (each leaf's hash is the
/// stored hash at its level-0 index).
pub(super) fn index_leaves(tx: &Connection) -> rusqlite::Result<()> {
    let (size, _) = log_head_in(tx)?;
    // Appends index every leaf they add, so the index is complete once its highest leaf is
    // the log's last: one look at the unique index, not a count of every row.
    let indexed: i64 = tx.query_row(
        "SELECT COALESCE(max(leaf) + 1, 0) FROM log_leaf_index",
        [],
        |r| r.get(0),
    )?;
    if indexed as u64 >= size {
        return Ok(());
    }
    let mut read = tx.prepare_cached("SELECT hash FROM log_hashes WHERE idx = ?1")?;
    let mut write =
        tx.prepare_cached("INSERT OR IGNORE INTO log_leaf_index (hash, leaf) VALUES (?1, ?2)")?;
    for leaf in 0..size {
        let hash: Vec<u8> = read
            .query_row([tlog_tiles::stored_hash_index(0, leaf) as i64], |r| {
                r.get(0)
            })?;
        write.execute(params![hash, leaf as i64])?;
    }
    Ok(())
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

    async fn add_cosignature(&self, size: u64, witness: &str, line: &str) -> StoreResult<()> {
        let (witness, line) = (witness.to_owned(), line.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO cosignatures (size, witness, line) VALUES (?1, ?2, ?3)",
                params![size as i64, witness, line],
            )
            .map(|_| ())
        })
        .await
    }

    async fn cosignatures(&self, size: u64) -> StoreResult<Vec<String>> {
        self.with_reads(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT line FROM cosignatures WHERE size = ?1 ORDER BY witness")?;
            stmt.query_map([size as i64], |r| r.get(0))?.collect()
        })
        .await
    }

    async fn newest_cosigned(&self) -> StoreResult<Option<u64>> {
        self.with_reads(|c| {
            c.query_row("SELECT max(size) FROM cosignatures", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|n| n.map(|n| n as u64))
        })
        .await
    }
}
