//! The record log in PostgreSQL: stored hashes by index (`log_hashes`), each record's leaf
//! (`log_leaves`) and the head (`log_head`). A batch's transaction only queues its records
//! (`log_queue`); [`Tlog::sequence`] appends everything queued under the head's lock.

use async_trait::async_trait;
use sqlexam_core::tlog::{self, Hash};

use super::{PgStore, err};
use crate::store::{StoreError, StoreResult, Tlog};

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
    /// Indexes the leaves of a log written before the index existed (each leaf's hash is
    /// the stored hash at its level-0 index), under the log head's lock.
    pub(super) async fn index_leaves(&self) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let size: i64 = tx
            .query_one("SELECT size FROM log_head WHERE id = 1 FOR UPDATE", &[])
            .await
            .map_err(err)?
            .get(0);
        // Appends index every leaf they add: the index is complete once its highest leaf is
        // the log's last (one look at the unique index, not a count of every row).
        let indexed: i64 = tx
            .query_one("SELECT COALESCE(max(leaf) + 1, 0) FROM log_leaf_index", &[])
            .await
            .map_err(err)?
            .get(0);
        if indexed < size {
            let leaves: Vec<i64> = (0..size).collect();
            let idx: Vec<i64> = (0..size as u64)
                .map(|n| tlog_tiles::stored_hash_index(0, n) as i64)
                .collect();
            tx.execute(
                "INSERT INTO log_leaf_index (hash, leaf)
                 SELECT h.hash, t.leaf FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS t (leaf, idx)
                 JOIN log_hashes h ON h.idx = t.idx
                 ON CONFLICT DO NOTHING",
                &[&leaves, &idx],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// Gives every queued record its leaf, in one transaction under the log head's lock
    /// (see [`Tlog::sequence`]); returns the head after it. Records are queued (with their
    /// leaf hash) by the transaction that stores them, so batches commit side by side and
    /// the log is written once for many of them; nothing in `records` is ever updated.
    pub(super) async fn sequence_pending(&self) -> StoreResult<(u64, Hash)> {
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
        // A record the log already holds (taken again after its rows were lost) keeps its
        // leaf: the log never holds it twice.
        let hashes: Vec<&[u8]> = queued.iter().map(|q| &q.3.0[..]).collect();
        let mut held = std::collections::HashMap::new();
        for r in tx
            .query(
                "SELECT hash, leaf FROM log_leaf_index WHERE hash = ANY($1)",
                &[&hashes],
            )
            .await
            .map_err(err)?
        {
            held.insert(hash_of(r.get(0))?.0, r.get::<_, i64>(1));
        }
        let (again, mut queued): (Vec<_>, Vec<_>) =
            queued.into_iter().partition(|q| held.contains_key(&q.3.0));
        if !again.is_empty() {
            let leaves: Vec<i64> = again.iter().map(|q| held[&q.3.0]).collect();
            let sessions: Vec<&str> = again.iter().map(|q| q.1.as_str()).collect();
            let seqs: Vec<i64> = again.iter().map(|q| q.2).collect();
            tx.execute(
                "INSERT INTO log_leaves (leaf, session, seq)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[])
                 ON CONFLICT (leaf) DO NOTHING",
                &[&leaves, &sessions, &seqs],
            )
            .await
            .map_err(err)?;
        }
        // The same record twice in the queue: once in the log.
        let mut seen = std::collections::HashSet::new();
        queued.retain(|q| seen.insert(q.3.0));
        if queued.is_empty() {
            tx.commit().await.map_err(err)?;
            return Ok((size, hash_of(head.get(1))?));
        }
        let needed = tlog::frontier(size);
        let known = needed
            .iter()
            .copied()
            .zip(log_hashes_in(&*tx, &needed).await?)
            .collect();
        let appended = tlog::append(size, known, queued.iter().map(|q| q.3))
            .map_err(|e| StoreError::fatal("the record log is damaged").caused_by(e))?;
        let leaves: Vec<i64> = (0..queued.len() as i64).map(|k| size as i64 + k).collect();
        let sessions: Vec<&str> = queued.iter().map(|q| q.1.as_str()).collect();
        let seqs: Vec<i64> = queued.iter().map(|q| q.2).collect();
        let (idx, hashes): (Vec<i64>, Vec<&[u8]>) = appended
            .hashes
            .iter()
            .map(|(i, h)| (*i as i64, &h.0[..]))
            .unzip();
        let leaf_hashes: Vec<&[u8]> = queued.iter().map(|q| &q.3.0[..]).collect();
        // One statement for the whole append: a round trip less while the lock is held.
        tx.execute(
            "WITH leaves AS (
                 INSERT INTO log_leaves (leaf, session, seq)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[])
             ), hashes AS (
                 INSERT INTO log_hashes (idx, hash) SELECT * FROM UNNEST($4::BIGINT[], $5::BYTEA[])
             ), indexed AS (
                 INSERT INTO log_leaf_index (hash, leaf) SELECT * FROM UNNEST($8::BYTEA[], $1::BIGINT[])
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
                &leaf_hashes,
            ],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok((appended.size, appended.root))
    }
}

#[async_trait]
impl Tlog for PgStore {
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

    async fn add_cosignature(&self, size: u64, witness: &str, line: &str) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO cosignatures (size, witness, line) VALUES ($1, $2, $3)
                 ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line",
                &[&(size as i64), &witness, &line],
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn cosignatures(&self, size: u64) -> StoreResult<Vec<String>> {
        Ok(self
            .client()
            .await?
            .query(
                "SELECT line FROM cosignatures WHERE size = $1 ORDER BY witness",
                &[&(size as i64)],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    async fn newest_cosigned(&self) -> StoreResult<Option<u64>> {
        let row = self
            .client()
            .await?
            .query_one("SELECT max(size) FROM cosignatures", &[])
            .await
            .map_err(err)?;
        Ok(row.get::<_, Option<i64>>(0).map(|n| n as u64))
    }
}
