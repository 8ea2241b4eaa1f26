//! The audit (`sqlexam serve --audit`): the tables held against the record log, which is
//! the one thing every device holds proofs of. It walks the log's leaves a page at a time
//! (memory does not grow with the exam): each leaf's record must be in the tables with the
//! bytes the leaf hashes, and the stored leaf hashes must make the head's root. Then each
//! session is re-derived from its records — chain, signatures, who and which pack — and
//! held against its row and its submission rows. Every difference is named.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlexam_core::crypto::{PublicKey, sha256_hex};
use sqlexam_core::record::{Event, GENESIS, RECORD_DOMAIN, Record};
use sqlexam_core::tlog::{Hash, append, frontier, leaf_hash};
use tlog_tiles::stored_hash_index;

use crate::model::{AuditSession, SubmissionRow};
use crate::store::{Store, StoreError, StoreResult};

/// Leaves read at once.
const PAGE: u64 = 10_000;
/// Sessions read at once.
const SESSIONS: usize = 1_000;
/// The most findings listed one by one (the rest are counted).
const LISTED: usize = 1_000;

/// What an audit found.
#[derive(Debug, Default, Serialize)]
pub struct AuditReport {
    /// The log's size and the leaves checked (all of them).
    pub leaves: u64,
    pub sessions: u64,
    pub records: u64,
    /// Everything that differs, one sentence each (at most [`LISTED`]).
    pub findings: Vec<String>,
    /// Findings beyond those listed.
    pub more: u64,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    fn found(&mut self, what: String) {
        if self.findings.len() < LISTED {
            self.findings.push(what);
        } else {
            self.more += 1;
        }
    }
}

fn damaged(e: tlog_tiles::Error) -> StoreError {
    StoreError::fatal("the record log's stored hashes are damaged").caused_by(e)
}

/// The leaves: each record where the log says, the stored leaf hashes making the root.
async fn leaves(
    store: &dyn Store,
    report: &mut AuditReport,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> StoreResult<()> {
    let (size, root) = store.log_head().await?;
    report.leaves = size;
    let mut known: Vec<(u64, Hash)> = Vec::new();
    let mut rebuilt = (0, tlog_tiles::EMPTY_HASH);
    let mut from = 0;
    while from < size {
        let to = (from + PAGE).min(size);
        let stored = store
            .log_hashes((from..to).map(|i| stored_hash_index(0, i)).collect())
            .await?;
        let mut records: BTreeMap<u64, _> = store
            .leaf_records(from, to)
            .await?
            .into_iter()
            .map(|r| (r.leaf, r))
            .collect();
        for (i, leaf) in (from..to).zip(&stored) {
            match records.remove(&i) {
                None => report.found(format!(
                    "leaf {i}: the tables hold no record for it (lost from the tables; the log keeps its hash)"
                )),
                Some(r) => match r.bytes {
                    None => report.found(format!(
                        "leaf {i} (session {}, seq {}): the records table lost it",
                        r.session, r.seq
                    )),
                    Some(bytes) if leaf_hash(&bytes) != *leaf => report.found(format!(
                        "leaf {i} (session {}, seq {}): the record in the tables is not the one the log holds",
                        r.session, r.seq
                    )),
                    Some(_) => {}
                },
            }
        }
        // The root, rebuilt from the stored leaves with only the tree's frontier in memory.
        let mut map: BTreeMap<u64, Hash> = known.iter().copied().collect();
        let appended = append(rebuilt.0, known, stored).map_err(damaged)?;
        map.extend(appended.hashes.iter().copied());
        known = frontier(appended.size)
            .into_iter()
            .filter_map(|i| map.get(&i).map(|h| (i, *h)))
            .collect();
        rebuilt = (appended.size, appended.root);
        progress(&format!("leaves: {to} of {size}"));
        from = to;
    }
    if rebuilt.1 != root {
        report.found(format!(
            "the log's stored leaves do not make the root of its head ({size} records): the log itself is damaged"
        ));
    }
    let unsequenced = store.unsequenced().await?;
    if unsequenced > 0 {
        report.found(format!(
            "{unsequenced} records in the tables have no leaf in the log"
        ));
    }
    Ok(())
}

/// One session re-derived from its records and held against its rows.
fn session(
    s: &AuditSession,
    records: &[crate::model::StoredRecord],
    submissions: &[SubmissionRow],
    report: &mut AuditReport,
) {
    let id = &s.facts.session;
    let key = PublicKey::from_hex(&s.facts.public_key);
    let mut prev = GENESIS.to_string();
    let mut claimed: BTreeMap<u64, (String, u64, u32, u32)> = BTreeMap::new();
    for (n, r) in records.iter().enumerate() {
        let at = format!("session {id}, seq {}", r.seq);
        if r.seq != n as u64 + 1 {
            report.found(format!("{at}: the chain skips to it from seq {n}"));
            return;
        }
        if sha256_hex(&r.bytes) != r.hash {
            report.found(format!("{at}: its stored hash is not its bytes' hash"));
        }
        if !key.is_some_and(|k| k.verify(RECORD_DOMAIN, &r.bytes, &r.signature)) {
            report.found(format!(
                "{at}: its signature does not verify with the session's device key"
            ));
        }
        let Ok(record) = serde_json::from_slice::<Record>(&r.bytes) else {
            report.found(format!("{at}: its bytes are not a record"));
            continue;
        };
        if record.prev != prev {
            report.found(format!("{at}: it does not chain to the record before it"));
        }
        prev = r.hash.clone();
        if record.session != *id
            || record.device != s.facts.device
            || record.candidate != s.facts.candidate
            || record.pack.hash != s.facts.pack_hash
            || record.pack.id != s.facts.exam
        {
            report.found(format!(
                "{at}: the session's row names another session, device, candidate or pack than the record"
            ));
        }
        match &record.event {
            Event::SessionStarted {
                device_public_key,
                candidate_name,
                ..
            } if *device_public_key != s.facts.public_key
                || *candidate_name != s.facts.candidate_name =>
            {
                report.found(format!(
                    "{at}: the session's row holds another device key or name than its first record"
                ));
            }
            Event::Submission {
                problem,
                submitted_elapsed_ms,
                score,
                max_score,
                ..
            } => {
                claimed.insert(
                    r.seq,
                    (problem.clone(), *submitted_elapsed_ms, *score, *max_score),
                );
            }
            _ => {}
        }
    }
    let last = records.last().map_or(0, |r| r.seq);
    if last != s.held_seq || prev != s.head {
        report.found(format!(
            "session {id}: its row says it holds {} records up to {}, its chain has {last} up to {}",
            s.held_seq,
            short(&s.head),
            short(&prev)
        ));
    }
    for row in submissions {
        let at = format!("session {id}, seq {}", row.seq);
        match claimed.remove(&row.seq) {
            None => report.found(format!(
                "{at}: a submission row with no submission record behind it"
            )),
            Some((problem, ms, score, max)) => {
                if (problem.as_str(), ms, score, max)
                    != (
                        row.problem.as_str(),
                        row.submitted_ms,
                        row.device_score,
                        row.max_score,
                    )
                {
                    report.found(format!(
                        "{at}: the submission row says {} {}/{} at {} ms, the record {problem} {score}/{max} at {ms} ms",
                        row.problem, row.device_score, row.max_score, row.submitted_ms
                    ));
                }
            }
        }
    }
    for seq in claimed.keys() {
        report.found(format!(
            "session {id}, seq {seq}: a submission record with no submission row (never re-graded)"
        ));
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Audits `store`; `progress` hears how far it got.
pub async fn audit(
    store: &dyn Store,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> StoreResult<AuditReport> {
    let mut report = AuditReport::default();
    leaves(store, &mut report, progress).await?;
    let mut after = String::new();
    loop {
        let page = store.audit_sessions(&after, SESSIONS).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.facts.session.clone();
        for s in &page {
            let records = store.session_records(&s.facts.session).await?;
            let submissions = store.session_submissions(&s.facts.session).await?;
            report.sessions += 1;
            report.records += records.len() as u64;
            session(s, &records, &submissions, &mut report);
        }
        progress(&format!("sessions: {}", report.sessions));
    }
    Ok(report)
}
