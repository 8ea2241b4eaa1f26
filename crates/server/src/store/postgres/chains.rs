//! A batch's transaction in PostgreSQL: the session row (created by its first record, then
//! locked, which serializes a session's batches across processes), what is held of it, the
//! domain's decision, and its writes — whole lists per statement (UNNEST), so a batch costs
//! a few round trips. The chain's records are queued for the log, not yet in it.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use sqlexam_core::record::GENESIS;

use super::reads::insert_flags;
use super::{PgStore, err};
use crate::model::{Checks, Decide, Decision, Held, Incoming, SessionFacts};
use crate::store::{Chains, StoreError, StoreResult, verdict_text};

/// Creates the session if new and locks its row; returns whether it was new, or `None`
/// when another first record (another device key) won the race for the same new session.
async fn begin_session(
    tx: &Transaction<'_>,
    facts: &SessionFacts,
    venue: &str,
    now: &str,
) -> StoreResult<Option<bool>> {
    let new_session = tx
        .execute(
            "INSERT INTO sessions (id, device, public_key, candidate, candidate_name, exam,
                pack_hash, held_seq, head, created_at, last_record_at, venue)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9, $10) ON CONFLICT (id) DO NOTHING",
            &[
                &facts.session,
                &facts.device,
                &facts.public_key,
                &facts.candidate,
                &facts.candidate_name,
                &facts.exam,
                &facts.pack_hash,
                &GENESIS,
                &now,
                &venue,
            ],
        )
        .await
        .map_err(err)?
        == 1;
    // The row lock serializes batches of one session across server processes.
    let row = tx
        .query_one(
            "SELECT public_key FROM sessions WHERE id = $1 FOR UPDATE",
            &[&facts.session],
        )
        .await
        .map_err(err)?;
    Ok((row.get::<_, &str>(0) == facts.public_key).then_some(new_session))
}

/// What the session holds that `incoming` touches: its head, the hashes stored at the
/// seqs the batch repeats, and the records held back before.
async fn load_held(
    tx: &Transaction<'_>,
    session: &str,
    incoming: &[Incoming],
) -> StoreResult<Held> {
    let row = tx
        .query_one(
            "SELECT held_seq, head FROM sessions WHERE id = $1",
            &[&session],
        )
        .await
        .map_err(err)?;
    let mut held = Held {
        seq: row.get::<_, i64>(0) as u64,
        head: row.get(1),
        ..Held::default()
    };
    let below: Vec<i64> = incoming
        .iter()
        .filter(|r| r.seq <= held.seq)
        .map(|r| r.seq as i64)
        .collect();
    if !below.is_empty() {
        for r in tx
            .query(
                "SELECT seq, hash FROM records WHERE session = $1 AND seq = ANY($2)",
                &[&session, &below],
            )
            .await
            .map_err(err)?
        {
            held.stored.insert(r.get::<_, i64>(0) as u64, r.get(1));
        }
    }
    held.pending = tx
        .query(
            "SELECT seq, prev, hash, bytes, signature FROM pending WHERE session = $1",
            &[&session],
        )
        .await
        .map_err(err)?
        .iter()
        .map(|r| Incoming {
            seq: r.get::<_, i64>(0) as u64,
            prev: r.get(1),
            hash: r.get(2),
            bytes: r.get(3),
            signature: r.get(4),
        })
        .collect();
    Ok(held)
}

/// A session's fixed facts, as columns (then `facts_row` reads them).
pub(super) const FACT_COLUMNS: &str =
    "id, device, public_key, candidate, candidate_name, exam, pack_hash";

pub(super) fn facts_row(r: &tokio_postgres::Row) -> SessionFacts {
    SessionFacts {
        session: r.get(0),
        device: r.get(1),
        public_key: r.get(2),
        candidate: r.get(3),
        candidate_name: r.get(4),
        exam: r.get(5),
        pack_hash: r.get(6),
    }
}

/// A list of records as the columns of an UNNEST: seqs, hashes, bytes, signatures, prevs.
#[allow(clippy::type_complexity)]
fn columns<'a>(
    records: impl Iterator<Item = &'a Incoming>,
) -> (
    Vec<i64>,
    Vec<&'a str>,
    Vec<&'a [u8]>,
    Vec<&'a [u8]>,
    Vec<&'a str>,
) {
    let mut c = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in records {
        c.0.push(r.seq as i64);
        c.1.push(r.hash.as_str());
        c.2.push(r.bytes.as_slice());
        c.3.push(r.signature.as_slice());
        c.4.push(r.prev.as_str());
    }
    c
}

/// Writes a decision; the chain's records are queued for the log ([`crate::store::Tlog::sequence`]).
async fn write(tx: &Transaction<'_>, session: &str, d: &Decision, now: &str) -> StoreResult<()> {
    let plan = &d.plan;
    for (kind, r) in &plan.forks {
        tx.execute(
            "INSERT INTO evidence (session, seq, hash, kind, bytes, signature, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &session,
                &(r.seq as i64),
                &r.hash,
                &kind.code(),
                &r.bytes,
                &r.signature,
                &now,
            ],
        )
        .await
        .map_err(err)?;
    }
    if !plan.hold.is_empty() {
        let (seqs, hashes, bytes, signatures, prevs) = columns(plan.hold.iter());
        tx.execute(
            "INSERT INTO pending (session, seq, hash, prev, bytes, signature, received_at)
             SELECT $1, s, h, p, b, g, $7 FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BYTEA[], $6::BYTEA[]) AS t (s, h, p, b, g)
             ON CONFLICT DO NOTHING",
            &[&session, &seqs, &hashes, &prevs, &bytes, &signatures, &now],
        )
        .await
        .map_err(err)?;
    }
    for (seq, hash) in &plan.release {
        tx.execute(
            "DELETE FROM pending WHERE session = $1 AND seq = $2 AND hash = $3",
            &[&session, &(*seq as i64), hash],
        )
        .await
        .map_err(err)?;
    }
    if !d.effects.submissions.is_empty() {
        let s = &d.effects.submissions;
        let seqs: Vec<i64> = s.iter().map(|s| s.seq as i64).collect();
        let problems: Vec<&str> = s.iter().map(|s| s.problem.as_str()).collect();
        let sqls: Vec<&str> = s.iter().map(|s| s.sql.as_str()).collect();
        let at: Vec<i64> = s.iter().map(|s| s.submitted_ms as i64).collect();
        let verdicts: Vec<String> = s.iter().map(|s| verdict_text(s.verdict)).collect();
        let scores: Vec<i64> = s.iter().map(|s| i64::from(s.score)).collect();
        let max: Vec<i64> = s.iter().map(|s| i64::from(s.max_score)).collect();
        tx.execute(
            "INSERT INTO submissions (session, seq, problem, sql, submitted_ms, device_verdict,
                device_score, max_score)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[],
                $6::TEXT[], $7::BIGINT[], $8::BIGINT[])",
            &[
                &session, &seqs, &problems, &sqls, &at, &verdicts, &scores, &max,
            ],
        )
        .await
        .map_err(err)?;
        tx.execute(
            "INSERT INTO jobs (session, seq, state) SELECT $1, s, 'queued' FROM UNNEST($2::BIGINT[]) AS t (s)",
            &[&session, &seqs],
        )
        .await
        .map_err(err)?;
    }
    insert_flags(tx, &d.effects.flags, now).await?;
    if !d.effects.incidents.is_empty() {
        let i = &d.effects.incidents;
        let seqs: Vec<i64> = i.iter().map(|i| i.seq as i64).collect();
        let kinds: Vec<&str> = i.iter().map(|i| i.kind.as_str()).collect();
        let at: Vec<Option<i64>> = i.iter().map(|i| i.elapsed_ms.map(|ms| ms as i64)).collect();
        let details: Vec<&str> = i.iter().map(|i| i.detail.as_str()).collect();
        tx.execute(
            "INSERT INTO incidents (session, seq, kind, elapsed_ms, detail)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[])
             ON CONFLICT DO NOTHING",
            &[&session, &seqs, &kinds, &at, &details],
        )
        .await
        .map_err(err)?;
    }
    let p = &d.effects.progress;
    tx.execute(
        "UPDATE sessions SET held_seq = $2, head = $3, last_record_at = $4,
            elapsed_ms = GREATEST(elapsed_ms, $5), extended_ms = extended_ms + $6,
            first_wall = CASE WHEN first_wall IS NULL OR $7 < first_wall THEN $7
                ELSE first_wall END,
            last_wall = CASE WHEN last_wall IS NULL OR $8 > last_wall THEN $8
                ELSE last_wall END,
            ended = COALESCE(ended, $9), admitted = COALESCE(admitted, $10)
         WHERE id = $1",
        &[
            &session,
            &(plan.seq as i64),
            &plan.head,
            &now,
            &(p.elapsed_ms as i64),
            &(p.extended_ms as i64),
            &p.first_wall,
            &p.last_wall,
            &p.ended,
            &p.admitted,
        ],
    )
    .await
    .map_err(err)?;
    if !plan.append.is_empty() {
        // In the log once sequenced (`Store::sequence`), after this commits.
        let (seqs, hashes, bytes, signatures, _) = columns(plan.append.iter());
        tx.execute(
            "INSERT INTO records (session, seq, hash, bytes, signature, received_at)
             SELECT $1, s, h, b, g, $6 FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::BYTEA[], $5::BYTEA[]) AS t (s, h, b, g)",
            &[&session, &seqs, &hashes, &bytes, &signatures, &now],
        )
        .await
        .map_err(err)?;
        let leaf_hashes: Vec<[u8; 32]> = plan
            .append
            .iter()
            .map(|r| sqlexam_core::tlog::leaf_hash(&r.bytes).0)
            .collect();
        let leaf_hashes: Vec<&[u8]> = leaf_hashes.iter().map(|h| &h[..]).collect();
        tx.execute(
            "INSERT INTO log_queue (session, seq, hash)
             SELECT $1, s, h FROM UNNEST($2::BIGINT[], $3::BYTEA[]) AS t (s, h)",
            &[&session, &seqs, &leaf_hashes],
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

#[async_trait]
impl Chains for PgStore {
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {FACT_COLUMNS} FROM sessions WHERE id = $1"),
                &[&session],
            )
            .await
            .map_err(err)?;
        Ok(row.as_ref().map(facts_row))
    }

    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
        decide: Decide,
    ) -> StoreResult<Decision> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        let Some(new_session) = begin_session(&tx, facts, &checks.venue, now).await? else {
            return Err(StoreError::busy(format!(
                "session {} was started at the same moment by another first record: send again",
                facts.session
            )));
        };
        let held = load_held(&tx, &facts.session, &incoming).await?;
        let decision = decide(facts, checks, &held, &incoming, new_session);
        write(&tx, &facts.session, &decision, now).await?;
        tx.commit().await.map_err(err)?;
        Ok(decision)
    }

    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt("SELECT held_seq FROM sessions WHERE id = $1", &[&session])
            .await
            .map_err(err)?
        else {
            return Ok(None);
        };
        let pending = client
            .query(
                "SELECT DISTINCT seq FROM pending WHERE session = $1 ORDER BY seq",
                &[&session],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect();
        Ok(Some((row.get::<_, i64>(0) as u64, pending)))
    }
}
