//! What results, flags and the dashboard read from PostgreSQL, and flags raised outside a
//! batch.

use async_trait::async_trait;
use sqlexam_core::grade::Verdict;

use super::{PgStore, err};
use sqlexam_export::results::Incident;

use crate::model::{Counts, Flag, Gap, SessionDecision, SessionRow, SubmissionRow};
use crate::store::{Reads, StoreResult, parse_verdict};

/// Raises flags, each once (the same flag again changes nothing).
pub(super) async fn insert_flags(
    tx: &deadpool_postgres::Transaction<'_>,
    flags: &[Flag],
    now: &str,
) -> StoreResult<()> {
    for f in flags {
        tx.execute(
            "INSERT INTO flags (exam, session, seq, kind, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &f.exam,
                &f.session,
                &(f.seq as i64),
                &f.kind,
                &f.detail,
                &now,
            ],
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

/// A submission row's columns (`b`: submissions, `s`: its session).
pub(super) const SUBMISSION_COLUMNS: &str = "b.session, b.seq, s.candidate, s.candidate_name,
    b.problem, b.submitted_ms, b.device_verdict, b.device_score, b.max_score,
    b.server_verdict, b.server_score, b.server_error";

pub(super) fn submission_row(r: &tokio_postgres::Row) -> SubmissionRow {
    SubmissionRow {
        session: r.get(0),
        seq: r.get::<_, i64>(1) as u64,
        candidate: r.get(2),
        candidate_name: r.get(3),
        problem: r.get(4),
        submitted_ms: r.get::<_, i64>(5) as u64,
        device_verdict: parse_verdict(r.get(6)).unwrap_or(Verdict::Forbidden),
        device_score: r.get::<_, i64>(7) as u32,
        max_score: r.get::<_, i64>(8) as u32,
        server_verdict: r.get::<_, Option<&str>>(9).and_then(parse_verdict),
        server_score: r.get::<_, Option<i64>>(10).map(|s| s as u32),
        server_error: r.get(11),
    }
}

#[async_trait]
impl Reads for PgStore {
    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {SUBMISSION_COLUMNS}
                     FROM submissions b JOIN sessions s ON s.id = b.session
                     WHERE s.exam = $1 ORDER BY s.candidate, b.problem, b.submitted_ms, b.seq"
                ),
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows.iter().map(submission_row).collect())
    }

    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, device, candidate, candidate_name, venue, held_seq, created_at,
                    last_record_at, elapsed_ms, extended_ms, first_wall, last_wall, ended, admitted
                 FROM sessions WHERE exam = $1 ORDER BY candidate, id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| SessionRow {
                session: r.get(0),
                device: r.get(1),
                candidate: r.get(2),
                candidate_name: r.get(3),
                venue: r.get(4),
                held_seq: r.get::<_, i64>(5) as u64,
                created_at: r.get(6),
                last_record_at: r.get(7),
                elapsed_ms: r.get::<_, i64>(8) as u64,
                extended_ms: r.get::<_, i64>(9) as u64,
                first_wall: r.get(10),
                last_wall: r.get(11),
                ended: r.get(12),
                admitted: r.get(13),
            })
            .collect())
    }

    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        insert_flags(&tx, &flags, now).await?;
        tx.commit().await.map_err(err)
    }

    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT exam, session, seq, kind, detail FROM flags WHERE exam = $1
                 ORDER BY session, seq, id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| Flag {
                exam: r.get(0),
                session: r.get(1),
                seq: r.get::<_, i64>(2) as u64,
                kind: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }

    async fn incidents(&self, exam: &str) -> StoreResult<Vec<Incident>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT i.session, i.seq, i.kind, i.elapsed_ms, i.detail FROM incidents i
                 JOIN sessions s ON s.id = i.session WHERE s.exam = $1
                 ORDER BY i.session, i.seq",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| Incident {
                session: r.get(0),
                seq: r.get::<_, i64>(1) as u64,
                kind: r.get(2),
                elapsed_ms: r.get::<_, Option<i64>>(3).map(|ms| ms as u64),
                detail: r.get(4),
            })
            .collect())
    }

    async fn add_decision(&self, d: &SessionDecision) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO decisions (exam, session, count, note, by_label, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&d.exam, &d.session, &d.count, &d.note, &d.by, &d.decided_at],
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn decisions(&self, exam: &str) -> StoreResult<Vec<SessionDecision>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT exam, session, count, note, by_label, decided_at FROM decisions
                 WHERE exam = $1 ORDER BY id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| SessionDecision {
                exam: r.get(0),
                session: r.get(1),
                count: r.get(2),
                note: r.get(3),
                by: r.get(4),
                decided_at: r.get(5),
            })
            .collect())
    }

    async fn gaps(&self, exam: &str) -> StoreResult<Vec<Gap>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT s.id, s.held_seq, min(p.seq) FROM sessions s
                 JOIN pending p ON p.session = s.id WHERE s.exam = $1
                 GROUP BY s.id, s.held_seq ORDER BY s.id",
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| Gap {
                session: r.get(0),
                from: r.get::<_, i64>(1) as u64 + 1,
                to: r.get::<_, i64>(2) as u64 - 1,
            })
            .collect())
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM sessions),
                        (SELECT count(*) FROM jobs WHERE state != 'done'),
                        (SELECT count(*) FROM jobs WHERE state = 'done'),
                        (SELECT count(*) FROM flags)",
                &[],
            )
            .await
            .map_err(err)?;
        let n = |i: usize| row.get::<_, i64>(i) as u64;
        Ok(Counts {
            records: n(0),
            sessions: n(1),
            jobs_queued: n(2),
            jobs_done: n(3),
            flags: n(4),
        })
    }
}
