//! What an audit reads from PostgreSQL, a page at a time.

use async_trait::async_trait;

use super::chains::{FACT_COLUMNS, facts_row};
use super::reads::{SUBMISSION_COLUMNS, submission_row};
use super::{PgStore, err};
use crate::model::{AuditSession, LeafRecord, StoredRecord, SubmissionRow};
use crate::store::{Audit, StoreResult};

#[async_trait]
impl Audit for PgStore {
    async fn leaf_records(&self, from: u64, to: u64) -> StoreResult<Vec<LeafRecord>> {
        // The log's own leaf table names each leaf's record, even one the records lost.
        Ok(self
            .client()
            .await?
            .query(
                "SELECT l.leaf, l.session, l.seq, r.bytes FROM log_leaves l
                 LEFT JOIN records r ON r.session = l.session AND r.seq = l.seq
                 WHERE l.leaf >= $1 AND l.leaf < $2 ORDER BY l.leaf",
                &[&(from as i64), &(to as i64)],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| LeafRecord {
                leaf: r.get::<_, i64>(0) as u64,
                session: r.get(1),
                seq: r.get::<_, i64>(2) as u64,
                bytes: r.get(3),
            })
            .collect())
    }

    async fn unsequenced(&self) -> StoreResult<u64> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM records r WHERE NOT EXISTS
                   (SELECT 1 FROM log_leaves l WHERE l.session = r.session AND l.seq = r.seq)",
                &[],
            )
            .await
            .map_err(err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn audit_sessions(&self, after: &str, limit: usize) -> StoreResult<Vec<AuditSession>> {
        Ok(self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {FACT_COLUMNS}, held_seq, head FROM sessions WHERE id > $1
                     ORDER BY id LIMIT $2"
                ),
                &[&after, &(limit as i64)],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| AuditSession {
                facts: facts_row(r),
                held_seq: r.get::<_, i64>(7) as u64,
                head: r.get(8),
            })
            .collect())
    }

    async fn session_records(&self, session: &str) -> StoreResult<Vec<StoredRecord>> {
        Ok(self
            .client()
            .await?
            .query(
                "SELECT seq, hash, bytes, signature FROM records WHERE session = $1 ORDER BY seq",
                &[&session],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| StoredRecord {
                seq: r.get::<_, i64>(0) as u64,
                hash: r.get(1),
                bytes: r.get(2),
                signature: r.get(3),
            })
            .collect())
    }

    async fn session_submissions(&self, session: &str) -> StoreResult<Vec<SubmissionRow>> {
        Ok(self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {SUBMISSION_COLUMNS} FROM submissions b
                     JOIN sessions s ON s.id = b.session WHERE b.session = $1 ORDER BY b.seq"
                ),
                &[&session],
            )
            .await
            .map_err(err)?
            .iter()
            .map(submission_row)
            .collect())
    }
}
