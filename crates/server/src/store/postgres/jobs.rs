//! The re-grade queue in PostgreSQL: claims with `FOR UPDATE SKIP LOCKED`, so no two
//! workers of any process claim one job.

use async_trait::async_trait;
use sqlexam_core::grade::Verdict;

use super::reads::insert_flags;
use super::{PgStore, err};
use crate::model::{Claim, Job, JobResult};
use crate::store::{Jobs, StoreResult, parse_verdict, verdict_text};

/// Job claims and verdicts commit without waiting for the WAL flush: one lost in a crash
/// leaves its job claimed, and it is graded again when the lease runs out. Records and
/// receipts always wait.
const JOB_COMMIT: &str = "SET LOCAL synchronous_commit = off";

/// Stores a verdict in `tx` (see [`Jobs::next_job`]).
async fn finish_in(tx: &deadpool_postgres::Transaction<'_>, result: &JobResult) -> StoreResult<()> {
    tx.execute(
        "UPDATE submissions SET server_verdict = $3, server_score = $4, server_error = $5,
            graded_at = $6 WHERE session = $1 AND seq = $2",
        &[
            &result.session,
            &(result.seq as i64),
            &result.verdict.map(verdict_text),
            &result.verdict.map(|_| i64::from(result.score)),
            &result.error,
            &result.graded_at,
        ],
    )
    .await
    .map_err(err)?;
    tx.execute(
        "UPDATE jobs SET state = 'done' WHERE id = $1",
        &[&result.id],
    )
    .await
    .map_err(err)?;
    if let Some(flag) = &result.flag {
        insert_flags(tx, std::slice::from_ref(flag), &result.graded_at).await?;
    }
    Ok(())
}

#[async_trait]
impl Jobs for PgStore {
    async fn next_job(&self, done: Option<&JobResult>, claim: &Claim) -> StoreResult<Option<Job>> {
        if let Some(result) = done {
            self.finish_job(result).await?;
        }
        let mut client = self.client().await?;
        loop {
            let tx = client.transaction().await.map_err(err)?;
            tx.batch_execute(JOB_COMMIT).await.map_err(err)?;
            let Some(row) = tx
                .query_opt(
                    "UPDATE jobs SET state = 'claimed', worker = $1, lease_until_ms = $2 + $3,
                        attempts = attempts + 1
                     WHERE id = (SELECT id FROM jobs
                                 WHERE state = 'queued' OR (state = 'claimed' AND lease_until_ms < $2)
                                 ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                     RETURNING id, session, seq, attempts",
                    &[&claim.worker, &claim.now_ms, &(claim.lease_ms as i64)],
                )
                .await
                .map_err(err)?
            else {
                tx.commit().await.map_err(err)?;
                return Ok(None);
            };
            let (id, session, seq, attempts): (i64, String, i64, i32) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let detail = tx
                .query_one(
                    "SELECT s.pack_hash, b.problem, b.sql, s.exam, b.device_verdict, b.device_score
                     FROM submissions b JOIN sessions s ON s.id = b.session
                     WHERE b.session = $1 AND b.seq = $2",
                    &[&session, &seq],
                )
                .await
                .map_err(err)?;
            let job = Job {
                id,
                session,
                seq: seq as u64,
                pack_hash: detail.get(0),
                problem: detail.get(1),
                sql: detail.get(2),
                exam: detail.get(3),
                device_verdict: parse_verdict(detail.get(4)).unwrap_or(Verdict::Forbidden),
                device_score: detail.get::<_, i64>(5) as u32,
            };
            // The claim just counted: more than the limit means it was lost that often.
            if attempts as u32 > claim.max_attempts {
                tx.execute("UPDATE jobs SET state = 'done' WHERE id = $1", &[&id])
                    .await
                    .map_err(err)?;
                insert_flags(
                    &tx,
                    &[(claim.give_up)(&job)],
                    &sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc()),
                )
                .await?;
                tx.commit().await.map_err(err)?;
                continue;
            }
            tx.commit().await.map_err(err)?;
            return Ok(Some(job));
        }
    }

    async fn finish_job(&self, done: &JobResult) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        tx.batch_execute(JOB_COMMIT).await.map_err(err)?;
        finish_in(&tx, done).await?;
        tx.commit().await.map_err(err)
    }

    async fn release_job(&self, id: i64) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE jobs SET state = 'queued', lease_until_ms = 0 WHERE id = $1 AND state = 'claimed'",
                &[&id],
            )
            .await
            .map_err(err)
            .map(|_| ())
    }

    async fn requeue_waiting(&self, hash: &str, marker: &str) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let waiting = "SELECT b.session, b.seq FROM submissions b
            JOIN sessions s ON s.id = b.session
            WHERE s.pack_hash = $1 AND b.server_verdict IS NULL
              AND b.server_error LIKE $2 || '%'";
        let n = tx
            .execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', attempts = 0, lease_until_ms = 0
                     WHERE state = 'done' AND (session, seq) IN ({waiting})"
                ),
                &[&hash, &marker],
            )
            .await
            .map_err(err)?;
        tx.execute(
            &format!(
                "UPDATE submissions SET server_error = NULL, graded_at = NULL
                 WHERE (session, seq) IN ({waiting})"
            ),
            &[&hash, &marker],
        )
        .await
        .map_err(err)?;
        tx.execute(
            "DELETE FROM flags WHERE kind = 'ungradable' AND detail LIKE '%' || $2 || '%'
               AND session IN (SELECT id FROM sessions WHERE pack_hash = $1)",
            &[&hash, &marker],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(n)
    }
}
