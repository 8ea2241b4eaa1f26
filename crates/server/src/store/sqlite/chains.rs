//! A batch's transaction in SQLite: the session row (created by its first record), what is
//! held of it, the domain's decision, and its writes — chain and log, evidence, held-back
//! records, submissions and their jobs, flags — committed together.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sqlexam_core::record::GENESIS;

use super::SqliteStore;
use super::reads::insert_flag;
use super::tlog::append_to_log;
use crate::model::{Checks, Decide, Decision, Held, Incoming, SessionFacts};
use crate::store::{Chains, StoreError, StoreResult, verdict_text};

/// A session's fixed facts, as columns (then `facts_row` reads them).
pub(super) const FACT_COLUMNS: &str =
    "id, device, public_key, candidate, candidate_name, exam, pack_hash";

pub(super) fn facts_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionFacts> {
    Ok(SessionFacts {
        session: r.get(0)?,
        device: r.get(1)?,
        public_key: r.get(2)?,
        candidate: r.get(3)?,
        candidate_name: r.get(4)?,
        exam: r.get(5)?,
        pack_hash: r.get(6)?,
    })
}

/// Creates the session if new; returns whether it was, or `None` when another first record
/// (another device key) won the race for the same new session id.
fn begin_session(
    tx: &Connection,
    facts: &SessionFacts,
    venue: &str,
    now: &str,
) -> rusqlite::Result<Option<bool>> {
    let new_session = tx.execute(
        "INSERT OR IGNORE INTO sessions (id, device, public_key, candidate,
            candidate_name, exam, pack_hash, held_seq, head, created_at, last_record_at,
            venue)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9, ?10)",
        params![
            facts.session,
            facts.device,
            facts.public_key,
            facts.candidate,
            facts.candidate_name,
            facts.exam,
            facts.pack_hash,
            GENESIS,
            now,
            venue
        ],
    )? == 1;
    let key: String = tx.query_row(
        "SELECT public_key FROM sessions WHERE id = ?1",
        [&facts.session],
        |r| r.get(0),
    )?;
    Ok((key == facts.public_key).then_some(new_session))
}

/// What the session holds that `incoming` touches: its head, the hashes stored at the
/// seqs the batch repeats, and the records held back before.
fn load_held(tx: &Connection, session: &str, incoming: &[Incoming]) -> rusqlite::Result<Held> {
    let (seq, head): (i64, String) = tx.query_row(
        "SELECT held_seq, head FROM sessions WHERE id = ?1",
        [session],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut held = Held {
        seq: seq as u64,
        head,
        ..Held::default()
    };
    let mut stored =
        tx.prepare_cached("SELECT hash FROM records WHERE session = ?1 AND seq = ?2")?;
    for r in incoming.iter().filter(|r| r.seq <= held.seq) {
        if let Some(hash) = stored
            .query_row(params![session, r.seq as i64], |row| {
                row.get::<_, String>(0)
            })
            .optional()?
        {
            held.stored.insert(r.seq, hash);
        }
    }
    let mut pending = tx.prepare_cached(
        "SELECT seq, prev, hash, bytes, signature FROM pending WHERE session = ?1",
    )?;
    held.pending = pending
        .query_map([session], |r| {
            Ok(Incoming {
                seq: r.get::<_, i64>(0)? as u64,
                prev: r.get(1)?,
                hash: r.get(2)?,
                bytes: r.get(3)?,
                signature: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(held)
}

/// Writes a decision: the chain's new records become the log's next leaves here, in the
/// same transaction.
fn write(tx: &Connection, session: &str, d: &Decision, now: &str) -> rusqlite::Result<()> {
    let plan = &d.plan;
    let leaves = append_to_log(
        tx,
        plan.append
            .iter()
            .map(|r| sqlexam_core::tlog::leaf_hash(&r.bytes)),
    )?;
    let mut append = tx.prepare_cached(
        "INSERT INTO records (session, seq, hash, bytes, signature, received_at, leaf)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (r, leaf) in plan.append.iter().zip(&leaves) {
        append.execute(params![
            session,
            r.seq as i64,
            r.hash,
            r.bytes,
            r.signature,
            now,
            *leaf as i64
        ])?;
    }
    let mut evidence = tx.prepare_cached(
        "INSERT OR IGNORE INTO evidence (session, seq, hash, kind, bytes, signature,
            received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (kind, r) in &plan.forks {
        evidence.execute(params![
            session,
            r.seq as i64,
            r.hash,
            kind.code(),
            r.bytes,
            r.signature,
            now
        ])?;
    }
    let mut hold = tx.prepare_cached(
        "INSERT OR IGNORE INTO pending (session, seq, hash, prev, bytes, signature,
            received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in &plan.hold {
        hold.execute(params![
            session,
            r.seq as i64,
            r.hash,
            r.prev,
            r.bytes,
            r.signature,
            now
        ])?;
    }
    let mut release =
        tx.prepare_cached("DELETE FROM pending WHERE session = ?1 AND seq = ?2 AND hash = ?3")?;
    for (seq, hash) in &plan.release {
        release.execute(params![session, *seq as i64, hash])?;
    }
    let mut submission = tx.prepare_cached(
        "INSERT INTO submissions (session, seq, problem, sql, submitted_ms,
            device_verdict, device_score, max_score)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut job =
        tx.prepare_cached("INSERT INTO jobs (session, seq, state) VALUES (?1, ?2, 'queued')")?;
    for s in &d.effects.submissions {
        submission.execute(params![
            session,
            s.seq as i64,
            s.problem,
            s.sql,
            s.submitted_ms as i64,
            verdict_text(s.verdict),
            s.score,
            s.max_score
        ])?;
        job.execute(params![session, s.seq as i64])?;
    }
    for f in &d.effects.flags {
        insert_flag(tx, f, now)?;
    }
    let mut incident = tx.prepare_cached(
        "INSERT OR IGNORE INTO incidents (session, seq, kind, elapsed_ms, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for i in &d.effects.incidents {
        incident.execute(params![
            session,
            i.seq as i64,
            i.kind,
            i.elapsed_ms.map(|ms| ms as i64),
            i.detail
        ])?;
    }
    let p = &d.effects.progress;
    tx.execute(
        "UPDATE sessions SET held_seq = ?2, head = ?3, last_record_at = ?4,
            elapsed_ms = MAX(elapsed_ms, ?5), extended_ms = extended_ms + ?6,
            first_wall = CASE WHEN first_wall IS NULL OR ?7 < first_wall THEN ?7
                ELSE first_wall END,
            last_wall = CASE WHEN last_wall IS NULL OR ?8 > last_wall THEN ?8
                ELSE last_wall END,
            ended = COALESCE(ended, ?9), admitted = COALESCE(admitted, ?10)
         WHERE id = ?1",
        params![
            session,
            plan.seq as i64,
            plan.head,
            now,
            p.elapsed_ms as i64,
            p.extended_ms as i64,
            p.first_wall,
            p.last_wall,
            p.ended,
            p.admitted
        ],
    )?;
    Ok(())
}

#[async_trait]
impl Chains for SqliteStore {
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>> {
        let session = session.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {FACT_COLUMNS} FROM sessions WHERE id = ?1"),
                [&session],
                facts_row,
            )
            .optional()
        })
        .await
    }

    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
        decide: Decide,
    ) -> StoreResult<Decision> {
        let (facts, checks, now) = (facts.clone(), checks.clone(), now.to_owned());
        let session = facts.session.clone();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(new_session) = begin_session(&tx, &facts, &checks.venue, &now)? else {
                return Ok(None);
            };
            let held = load_held(&tx, &facts.session, &incoming)?;
            let decision = decide(&facts, &checks, &held, &incoming, new_session);
            write(&tx, &facts.session, &decision, &now)?;
            tx.commit()?;
            Ok(Some(decision))
        })
        .await?
        .ok_or_else(|| {
            StoreError::busy(format!(
                "session {session} was started at the same moment by another first record: send again"
            ))
        })
    }

    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>> {
        let session = session.to_owned();
        self.with(move |c| {
            let Some(seq) = c
                .query_row(
                    "SELECT held_seq FROM sessions WHERE id = ?1",
                    [&session],
                    |r| Ok(r.get::<_, i64>(0)? as u64),
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt =
                c.prepare("SELECT DISTINCT seq FROM pending WHERE session = ?1 ORDER BY seq")?;
            let pending = stmt
                .query_map([&session], |r| Ok(r.get::<_, i64>(0)? as u64))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((seq, pending)))
        })
        .await
    }
}
