//! What an audit reads from SQLite, a page at a time.

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteStore;
use super::chains::{FACT_COLUMNS, facts_row};
use super::reads::{SUBMISSION_COLUMNS, submission_row};
use crate::model::{AuditSession, LeafRecord, StoredRecord, SubmissionRow};
use crate::store::{Audit, StoreResult};

#[async_trait]
impl Audit for SqliteStore {
    async fn leaf_records(&self, from: u64, to: u64) -> StoreResult<Vec<LeafRecord>> {
        self.with_reads(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT leaf, session, seq, bytes FROM records
                 WHERE leaf >= ?1 AND leaf < ?2 ORDER BY leaf",
            )?;
            stmt.query_map(params![from as i64, to as i64], |r| {
                Ok(LeafRecord {
                    leaf: r.get::<_, i64>(0)? as u64,
                    session: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    bytes: Some(r.get(3)?),
                })
            })?
            .collect()
        })
        .await
    }

    async fn unsequenced(&self) -> StoreResult<u64> {
        self.with_reads(|c| {
            c.query_row("SELECT count(*) FROM records WHERE leaf IS NULL", [], |r| {
                r.get::<_, i64>(0).map(|n| n as u64)
            })
        })
        .await
    }

    async fn audit_sessions(&self, after: &str, limit: usize) -> StoreResult<Vec<AuditSession>> {
        let after = after.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {FACT_COLUMNS}, held_seq, head FROM sessions WHERE id > ?1
                 ORDER BY id LIMIT ?2"
            ))?;
            stmt.query_map(params![after, limit as i64], |r| {
                Ok(AuditSession {
                    facts: facts_row(r)?,
                    held_seq: r.get::<_, i64>(7)? as u64,
                    head: r.get(8)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn session_records(&self, session: &str) -> StoreResult<Vec<StoredRecord>> {
        let session = session.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, hash, bytes, signature FROM records WHERE session = ?1 ORDER BY seq",
            )?;
            stmt.query_map([&session], |r| {
                Ok(StoredRecord {
                    seq: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                    bytes: r.get(2)?,
                    signature: r.get(3)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn session_submissions(&self, session: &str) -> StoreResult<Vec<SubmissionRow>> {
        let session = session.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SUBMISSION_COLUMNS} FROM submissions b JOIN sessions s ON s.id = b.session
                 WHERE b.session = ?1 ORDER BY b.seq"
            ))?;
            stmt.query_map([&session], submission_row)?.collect()
        })
        .await
    }
}
