//! The re-grade queue in SQLite, on a connection of its own (see [`SqliteStore`]).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sqlexam_core::grade::Verdict;

use super::SqliteStore;
use super::reads::insert_flag;
use crate::model::{Claim, Job, JobResult};
use crate::store::{Jobs, StoreResult, parse_verdict, verdict_text};

/// Claims the oldest ready job in `tx` (see [`Jobs::next_job`]).
fn claim_in(tx: &rusqlite::Transaction<'_>, claim: &Claim) -> rusqlite::Result<Option<Job>> {
    loop {
        let candidate = tx
            .query_row(
                "SELECT j.id, j.session, j.seq, j.attempts, s.pack_hash, b.problem, b.sql,
                        s.exam, b.device_verdict, b.device_score
                 FROM jobs j JOIN sessions s ON s.id = j.session
                 JOIN submissions b ON b.session = j.session AND b.seq = j.seq
                 WHERE j.state = 'queued' OR (j.state = 'claimed' AND j.lease_until_ms < ?1)
                 ORDER BY j.id LIMIT 1",
                [claim.now_ms],
                |r| {
                    Ok((
                        Job {
                            id: r.get(0)?,
                            session: r.get(1)?,
                            seq: r.get::<_, i64>(2)? as u64,
                            pack_hash: r.get(4)?,
                            problem: r.get(5)?,
                            sql: r.get(6)?,
                            exam: r.get(7)?,
                            device_verdict: parse_verdict(&r.get::<_, String>(8)?)
                                .unwrap_or(Verdict::Forbidden),
                            device_score: r.get(9)?,
                        },
                        r.get::<_, u32>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((job, attempts)) = candidate else {
            return Ok(None);
        };
        if attempts >= claim.max_attempts {
            // Claimed and lost this many times (a grader that crashes on it): give up.
            tx.execute("UPDATE jobs SET state = 'done' WHERE id = ?1", [job.id])?;
            insert_flag(
                tx,
                &(claim.give_up)(&job),
                &sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc()),
            )?;
            continue;
        }
        tx.execute(
            "UPDATE jobs SET state = 'claimed', worker = ?2, lease_until_ms = ?3,
                attempts = attempts + 1 WHERE id = ?1",
            params![job.id, claim.worker, claim.now_ms + claim.lease_ms as i64],
        )?;
        return Ok(Some(job));
    }
}

/// Stores a verdict in `tx` (see [`Jobs::next_job`]).
fn finish_in(tx: &rusqlite::Transaction<'_>, result: &JobResult) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE submissions SET server_verdict = ?3, server_score = ?4,
            server_error = ?5, graded_at = ?6 WHERE session = ?1 AND seq = ?2",
        params![
            result.session,
            result.seq as i64,
            result.verdict.map(verdict_text),
            result.verdict.map(|_| result.score),
            result.error,
            result.graded_at
        ],
    )?;
    tx.execute("UPDATE jobs SET state = 'done' WHERE id = ?1", [result.id])?;
    if let Some(flag) = &result.flag {
        insert_flag(tx, flag, &result.graded_at)?;
    }
    Ok(())
}

#[async_trait]
impl Jobs for SqliteStore {
    async fn next_job(&self, done: Option<&JobResult>, claim: &Claim) -> StoreResult<Option<Job>> {
        let (done, claim) = (done.cloned(), claim.clone());
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(result) = &done {
                finish_in(&tx, result)?;
            }
            let job = claim_in(&tx, &claim)?;
            tx.commit()?;
            Ok(job)
        })
        .await
    }

    async fn finish_job(&self, done: &JobResult) -> StoreResult<()> {
        let done = done.clone();
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            finish_in(&tx, &done)?;
            tx.commit()
        })
        .await
    }

    async fn release_job(&self, id: i64) -> StoreResult<()> {
        self.with_jobs(move |c| {
            c.execute(
                "UPDATE jobs SET state = 'queued', lease_until_ms = 0 WHERE id = ?1 AND state = 'claimed'",
                [id],
            )
            .map(|_| ())
        })
        .await
    }

    async fn requeue_waiting(&self, hash: &str, waiting: &str) -> StoreResult<u64> {
        let (hash, waiting) = (hash.to_owned(), waiting.to_owned());
        self.with_jobs(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let select = "SELECT b.session, b.seq FROM submissions b
                JOIN sessions s ON s.id = b.session
                WHERE s.pack_hash = ?1 AND b.server_verdict IS NULL
                  AND b.server_error LIKE ?2 || '%'";
            let n = tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', attempts = 0, lease_until_ms = 0
                     WHERE state = 'done' AND (session, seq) IN ({select})"
                ),
                params![hash, waiting],
            )?;
            tx.execute(
                &format!(
                    "UPDATE submissions SET server_error = NULL, graded_at = NULL
                     WHERE (session, seq) IN ({select})"
                ),
                params![hash, waiting],
            )?;
            tx.execute(
                "DELETE FROM flags WHERE kind = 'ungradable' AND detail LIKE '%' || ?2 || '%'
                   AND session IN (SELECT id FROM sessions WHERE pack_hash = ?1)",
                params![hash, waiting],
            )?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }
}
