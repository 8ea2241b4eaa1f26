//! What results, flags and the dashboard read from SQLite, and flags raised outside a batch.

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use sqlexam_core::grade::Verdict;

use super::SqliteStore;
use sqlexam_export::results::Incident;

use crate::model::{Counts, Flag, Gap, SessionDecision, SessionRow, SubmissionRow};
use crate::store::{Reads, StoreResult, parse_verdict};

/// Raises a flag once (the same flag again changes nothing).
pub(super) fn insert_flag(tx: &Connection, f: &Flag, now: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO flags (exam, session, seq, kind, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![f.exam, f.session, f.seq as i64, f.kind, f.detail, now],
    )?;
    Ok(())
}

/// A submission row's columns (`b`: submissions, `s`: its session).
pub(super) const SUBMISSION_COLUMNS: &str = "b.session, b.seq, s.candidate, s.candidate_name,
    b.problem, b.submitted_ms, b.device_verdict, b.device_score, b.max_score,
    b.server_verdict, b.server_score, b.server_error";

pub(super) fn submission_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubmissionRow> {
    Ok(SubmissionRow {
        session: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        candidate: r.get(2)?,
        candidate_name: r.get(3)?,
        problem: r.get(4)?,
        submitted_ms: r.get::<_, i64>(5)? as u64,
        device_verdict: parse_verdict(&r.get::<_, String>(6)?).unwrap_or(Verdict::Forbidden),
        device_score: r.get(7)?,
        max_score: r.get(8)?,
        server_verdict: r
            .get::<_, Option<String>>(9)?
            .and_then(|v| parse_verdict(&v)),
        server_score: r.get(10)?,
        server_error: r.get(11)?,
    })
}

#[async_trait]
impl Reads for SqliteStore {
    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {SUBMISSION_COLUMNS}
                     FROM submissions b JOIN sessions s ON s.id = b.session
                     WHERE s.exam = ?1 ORDER BY s.candidate, b.problem, b.submitted_ms, b.seq"
            ))?;
            stmt.query_map([&exam], submission_row)?.collect()
        })
        .await
    }

    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>> {
        let exam = exam.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, device, candidate, candidate_name, venue, held_seq, created_at,
                    last_record_at, elapsed_ms, extended_ms, first_wall, last_wall, ended, admitted
                 FROM sessions WHERE exam = ?1 ORDER BY candidate, id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(SessionRow {
                    session: r.get(0)?,
                    device: r.get(1)?,
                    candidate: r.get(2)?,
                    candidate_name: r.get(3)?,
                    venue: r.get(4)?,
                    held_seq: r.get::<_, i64>(5)? as u64,
                    created_at: r.get(6)?,
                    last_record_at: r.get(7)?,
                    elapsed_ms: r.get::<_, i64>(8)? as u64,
                    extended_ms: r.get::<_, i64>(9)? as u64,
                    first_wall: r.get(10)?,
                    last_wall: r.get(11)?,
                    ended: r.get(12)?,
                    admitted: r.get(13)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()> {
        let now = now.to_owned();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for f in &flags {
                insert_flag(&tx, f, &now)?;
            }
            tx.commit()
        })
        .await
    }

    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT exam, session, seq, kind, detail FROM flags WHERE exam = ?1
                 ORDER BY session, seq, id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(Flag {
                    exam: r.get(0)?,
                    session: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    kind: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn incidents(&self, exam: &str) -> StoreResult<Vec<Incident>> {
        let exam = exam.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare(
                "SELECT i.session, i.seq, i.kind, i.elapsed_ms, i.detail FROM incidents i
                 JOIN sessions s ON s.id = i.session WHERE s.exam = ?1
                 ORDER BY i.session, i.seq",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(Incident {
                    session: r.get(0)?,
                    seq: r.get::<_, i64>(1)? as u64,
                    kind: r.get(2)?,
                    elapsed_ms: r.get::<_, Option<i64>>(3)?.map(|ms| ms as u64),
                    detail: r.get(4)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn add_decision(&self, d: &SessionDecision) -> StoreResult<()> {
        let d = d.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO decisions (exam, session, count, note, by_label, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![d.exam, d.session, d.count, d.note, d.by, d.decided_at],
            )
            .map(|_| ())
        })
        .await
    }

    async fn decisions(&self, exam: &str) -> StoreResult<Vec<SessionDecision>> {
        let exam = exam.to_owned();
        self.with_reads(move |c| {
            let mut stmt = c.prepare(
                "SELECT exam, session, count, note, by_label, decided_at FROM decisions
                 WHERE exam = ?1 ORDER BY id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(SessionDecision {
                    exam: r.get(0)?,
                    session: r.get(1)?,
                    count: r.get(2)?,
                    note: r.get(3)?,
                    by: r.get(4)?,
                    decided_at: r.get(5)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn gaps(&self, exam: &str) -> StoreResult<Vec<Gap>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT s.id, s.held_seq, min(p.seq) FROM sessions s
                 JOIN pending p ON p.session = s.id WHERE s.exam = ?1
                 GROUP BY s.id ORDER BY s.id",
            )?;
            stmt.query_map([&exam], |r| {
                Ok(Gap {
                    session: r.get(0)?,
                    from: r.get::<_, i64>(1)? as u64 + 1,
                    to: r.get::<_, i64>(2)? as u64 - 1,
                })
            })?
            .collect()
        })
        .await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.with(|c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0).map(|n| n as u64));
            Ok(Counts {
                records: count("SELECT count(*) FROM records")?,
                sessions: count("SELECT count(*) FROM sessions")?,
                jobs_queued: count("SELECT count(*) FROM jobs WHERE state != 'done'")?,
                jobs_done: count("SELECT count(*) FROM jobs WHERE state = 'done'")?,
                flags: count("SELECT count(*) FROM flags")?,
            })
        })
        .await
    }
}
