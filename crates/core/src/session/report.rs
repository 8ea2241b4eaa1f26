//! Reading a store without changing it, and verifying records: what `sqlexam session
//! show`, `verify` and `export` report, and what verification expects of a store.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::packs::kept_proctor_key;
use super::store::ReadOnlyStore;
use super::{SessionError, SessionState, device};
use crate::record::{Event, Expectations, Finding, PackRef, SignedRecord, verify_records};

/// What `sqlexam session verify` reports about a store or an export.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: usize,
    pub sessions: usize,
    pub findings: Vec<Finding>,
}

/// Reads every record of a store file without changing it (read-only; no recovery).
pub fn read_store_records(path: &Path) -> Result<Vec<SignedRecord>, SessionError> {
    ReadOnlyStore::open(path)?.records()
}

/// What verifying a store's records expects: the store's own device (from its device key,
/// when `device` is not given) and the proctor key of each pack whose copy the store keeps,
/// read from the copy's signed manifest (a copy whose hash is not the one the records name
/// gives no key, so its proctor records stay unproven).
pub fn store_expectations(
    dir: &Path,
    records: &[SignedRecord],
    device: Option<String>,
) -> Expectations {
    #[derive(serde::Deserialize)]
    struct PackOnly {
        pack: PackRef,
    }
    let device = device.or_else(|| device::public_key_id(&dir.join("device.key")));
    let hashes: std::collections::BTreeSet<String> = records
        .iter()
        .filter_map(|r| serde_json::from_slice::<PackOnly>(&r.bytes).ok())
        .map(|r| r.pack.hash)
        .collect();
    let proctor_keys = hashes
        .into_iter()
        .filter_map(|hash| kept_proctor_key(dir, &hash).map(|key| (hash, key)))
        .collect();
    Expectations {
        device,
        proctor_keys,
    }
}

/// Verifies records from a store or an export.
pub fn verify_report(records: &[SignedRecord], expect: &Expectations) -> VerifyReport {
    let (good, findings) = verify_records(records, expect);
    let sessions = good
        .iter()
        .map(|r| r.session.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    VerifyReport {
        records: records.len(),
        sessions,
        findings,
    }
}

/// One session as `sqlexam session show` lists it, read without changing the store.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub pack_id: String,
    pub pack_version: String,
    pub candidate_id: String,
    pub candidate_name: String,
    pub state: SessionState,
    pub elapsed_ms: u64,
    pub duration_ms: u64,
    /// Best score per problem, summed, from the verified records.
    pub score: u32,
    pub submissions: usize,
    pub records: usize,
    pub unsynced: usize,
}

/// Lists the sessions of a store file read-only (safe while the app has it open).
pub fn summaries(path: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let store = ReadOnlyStore::open(path)?;
    let records = store.records()?;
    let (good, _) = verify_records(&records, &Expectations::default());
    let mut out = store.summaries()?;
    for s in &mut out {
        let mut best: BTreeMap<&str, u32> = BTreeMap::new();
        for r in good.iter().filter(|r| r.session == s.id) {
            if let Event::Submission { problem, score, .. } = &r.event {
                let b = best.entry(problem.as_str()).or_default();
                *b = (*b).max(*score);
            }
        }
        s.score = best.values().sum();
    }
    Ok(out)
}
