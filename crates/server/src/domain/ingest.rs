//! Taking in records, from a sync batch or a bundle: parsing (a malformed batch is refused
//! whole), checking each record against its session's device key, and having the store
//! apply the plan ([`super::plan`]) — then the receipts, once every record taken is in the
//! log. A batch that is refused applies nothing.

use std::collections::BTreeMap;

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::{BatchOutcome, Rejected, SessionOutcome};
use sqlexam_core::record::{Event, FORMAT, RECORD_DOMAIN, Record, SignedRecord, parse_export};

use super::tlog::Covered;
use super::{Outcome, Refusal, Server, blocking, now};
use crate::model::{Checks, Incoming, SessionFacts};

/// A record batch's largest line count.
pub const MAX_BATCH_LINES: usize = 10_000;

/// One line of a batch, parsed.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based line number in the batch.
    pub line: usize,
    pub signed: SignedRecord,
    pub record: Record,
    pub hash: String,
}

impl From<&Line> for Incoming {
    fn from(l: &Line) -> Self {
        Incoming {
            seq: l.record.seq,
            prev: l.record.prev.clone(),
            hash: l.hash.clone(),
            bytes: l.signed.bytes.clone(),
            signature: l.signed.signature.clone(),
        }
    }
}

fn malformed(line: usize, message: String) -> Refusal {
    Refusal::Invalid {
        code: "malformed_line",
        message,
        line: Some(line),
    }
}

/// Parses a batch: every non-blank line must be a `{"bytes", "signature"}` object whose bytes
/// are a record of this format. Anything else refuses the whole batch, naming the line, so a
/// damaged upload stores nothing.
pub fn parse_batch(body: &[u8]) -> Outcome<Vec<Line>> {
    let text = std::str::from_utf8(body).map_err(|e| {
        Refusal::invalid(
            "not_utf8",
            format!("the batch is not UTF-8 text (byte {})", e.valid_up_to()),
        )
    })?;
    let (records, findings) = parse_export(text);
    if let Some(sqlexam_core::record::Finding::Unparsable { line, error, .. }) = findings.first() {
        let line = line.unwrap_or(0);
        return Err(malformed(
            line,
            format!("line {line} is not a {{\"bytes\", \"signature\"}} record line: {error}"),
        ));
    }
    // parse_export skips blank lines; number the records by their real lines.
    let line_numbers = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i + 1);
    let mut lines = Vec::with_capacity(records.len());
    for (signed, line) in records.into_iter().zip(line_numbers) {
        let record = match serde_json::from_slice::<Record>(&signed.bytes) {
            Ok(r) if r.format == FORMAT => r,
            Ok(r) => {
                return Err(malformed(
                    line,
                    format!("line {line}: unknown record format {:?}", r.format),
                ));
            }
            Err(e) => {
                return Err(malformed(
                    line,
                    format!("line {line}: the bytes are not a record: {e}"),
                ));
            }
        };
        let hash = signed.hash();
        lines.push(Line {
            line,
            signed,
            record,
            hash,
        });
    }
    Ok(lines)
}

/// The facts a session's first record states, if it is one (seq 1, `session_started`)
/// whose key is the device it names.
pub fn session_start(line: &Line) -> Option<SessionFacts> {
    let r = &line.record;
    let Event::SessionStarted {
        device_public_key,
        candidate_name,
        ..
    } = &r.event
    else {
        return None;
    };
    let key = PublicKey::from_hex(device_public_key)?;
    (r.seq == 1 && key.key_id() == r.device).then(|| SessionFacts {
        session: r.session.clone(),
        device: r.device.clone(),
        public_key: device_public_key.clone(),
        candidate: r.candidate.clone(),
        candidate_name: candidate_name.clone(),
        exam: r.pack.id.clone(),
        pack_hash: r.pack.hash.clone(),
    })
}

/// Refuses a record the session's device did not sign, or that names another device,
/// candidate or pack than the session's first record.
pub fn check_record(facts: &SessionFacts, line: &Line) -> Result<(), Rejected> {
    let r = &line.record;
    let reject = |code: &str, message: String| Rejected {
        line: line.line,
        session: Some(r.session.clone()),
        seq: Some(r.seq),
        code: code.into(),
        message,
    };
    let key = PublicKey::from_hex(&facts.public_key);
    if !key.is_some_and(|k| k.verify(RECORD_DOMAIN, &line.signed.bytes, &line.signed.signature)) {
        return Err(reject(
            "bad_signature",
            format!(
                "session {}, seq {}: the signature does not verify with the session's device key {}",
                r.session, r.seq, facts.device
            ),
        ));
    }
    let mismatch = if r.device != facts.device {
        Some(("device", &r.device, &facts.device))
    } else if r.candidate != facts.candidate {
        Some(("candidate", &r.candidate, &facts.candidate))
    } else if r.pack.hash != facts.pack_hash {
        Some(("pack", &r.pack.hash, &facts.pack_hash))
    } else {
        None
    };
    match mismatch {
        Some((what, theirs, ours)) => Err(reject(
            "inconsistent",
            format!(
                "session {}, seq {}: names {what} {theirs}, but the session's first record names {ours}",
                r.session, r.seq
            ),
        )),
        None => Ok(()),
    }
}

fn missing_start(session: &str, l: &Line) -> Rejected {
    Rejected {
        line: l.line,
        session: Some(session.to_owned()),
        seq: Some(l.record.seq),
        code: "missing_start".into(),
        message: format!(
            "the server holds nothing of session {session} and the batch does not start it with a valid first record: send from seq 1"
        ),
    }
}

/// Where a batch's records come from, for the sessions they create and the rate limits.
pub struct Source<'a> {
    /// A venue token's label, or a bundle's venue.
    pub venue: &'a str,
    /// Each device's batch rate is limited (a bundle is one upload, however many devices
    /// it holds, and is not).
    pub limit_devices: bool,
}

impl Server {
    /// Takes verified records into their sessions' chains and answers with receipts.
    pub async fn ingest(&self, lines: Vec<Line>, from: &Source<'_>) -> Outcome<BatchOutcome> {
        let mut by_session: BTreeMap<String, Vec<Line>> = BTreeMap::new();
        for line in lines {
            by_session
                .entry(line.record.session.clone())
                .or_default()
                .push(line);
        }
        let mut outcome = BatchOutcome {
            sessions: Vec::new(),
            rejected: Vec::new(),
        };
        // Every session's facts, signatures and rate first, so a refused batch applies
        // nothing.
        let mut sessions = Vec::with_capacity(by_session.len());
        for (session, mut lines) in by_session {
            lines.sort_by_key(|l| l.record.seq);
            let (facts, known) = match self.store.session_facts(&session).await? {
                Some(facts) => (Some(facts), true),
                None => (lines.iter().find_map(session_start), false),
            };
            let Some(facts) = facts else {
                outcome
                    .rejected
                    .extend(lines.iter().map(|l| missing_start(&session, l)));
                continue;
            };
            // Signatures are checked off the async threads: a batch may hold thousands.
            let (checked, rejected, lines) = {
                let facts = facts.clone();
                blocking(move || {
                    let mut checked = Vec::with_capacity(lines.len());
                    let mut rejected = Vec::new();
                    for l in &lines {
                        match check_record(&facts, l) {
                            Ok(()) => checked.push(Incoming::from(l)),
                            Err(r) => rejected.push(r),
                        }
                    }
                    (checked, rejected, lines)
                })
                .await?
            };
            outcome.rejected.extend(rejected);
            // A device's rate is charged only for records its key signed: a forger naming
            // the device cannot spend it.
            if from.limit_devices
                && !checked.is_empty()
                && let Err(wait) = self.per_device.take(&facts.device)
            {
                return Err(Refusal::RateLimited {
                    message: format!("too many batches from device {}", facts.device),
                    retry_after: wait,
                });
            }
            sessions.push((session, lines, checked, facts, known));
        }
        let mut queued = false;
        let (mut covered, mut plans) = (Vec::new(), Vec::new());
        for (session, lines, checked, facts, known) in sessions {
            // A new session exists only once its first record verified: a forged or broken
            // start creates nothing, and the records after it wait for a real one.
            if !known && !checked.iter().any(|r| r.seq == 1) {
                outcome.rejected.extend(
                    checked
                        .iter()
                        .filter_map(|r| lines.iter().find(|l| l.hash == r.hash))
                        .map(|l| missing_start(&session, l)),
                );
                continue;
            }
            let checks = self.checks_for(&facts, from.venue).await?;
            let first = checked.iter().map(|r| r.seq).min();
            let decision = self
                .store
                .apply(&facts, checked, &checks, &now(), super::plan::decide)
                .await?;
            let plan = decision.plan;
            queued |= !plan.append.is_empty();
            // Proofs for every record of the batch now in the chain, and for held-back ones
            // it completed (they lie between the batch's first seq and the new head).
            covered.push(Covered {
                session,
                seq: plan.seq,
                from: first,
            });
            plans.push(plan);
        }
        if queued {
            self.wake.notify_waiters();
        }
        let head = match covered.is_empty() {
            true => None,
            false => Some(self.sequencer.run(&*self.store).await?),
        };
        let receipts = self.receipts(&covered, head).await?;
        for (plan, receipt) in plans.into_iter().zip(receipts) {
            outcome.sessions.push(SessionOutcome {
                session: receipt.session.clone(),
                stored: plan.append.len() as u64,
                already_stored: plan.already_stored,
                forks: plan.forks.iter().map(|(_, r)| r.seq).collect(),
                held_back: plan.held_back,
                gap: plan.gap,
                receipt,
            });
        }
        Ok(outcome)
    }

    /// The exam's pack and the session's pack, as this server holds them.
    async fn checks_for(&self, facts: &SessionFacts, venue: &str) -> Outcome<Checks> {
        let exam_pack = self.store.exam_pack(&facts.exam).await?;
        let session_pack = match &exam_pack {
            Some(p) if p.hash == facts.pack_hash => Some(p.clone()),
            _ => self.store.pack_facts(&facts.pack_hash).await?,
        };
        let outline = match &session_pack {
            Some(p) => self.outline(p).await?,
            None => None,
        };
        let duration_ms = outline.as_ref().map(|o| o.duration_ms);
        // The candidate's roster entry, when the session's pack has a roster.
        let roster = match &outline {
            Some(o) if o.roster => Some(
                self.store
                    .roster_entry(&facts.pack_hash, &facts.candidate)
                    .await?,
            ),
            _ => None,
        };
        Ok(Checks {
            exam_pack_hash: exam_pack.map(|p| p.hash),
            proctor_key: session_pack
                .map(|p| p.proctor_key.as_deref().and_then(PublicKey::from_hex)),
            venue: venue.to_owned(),
            duration_ms,
            roster,
        })
    }
}
