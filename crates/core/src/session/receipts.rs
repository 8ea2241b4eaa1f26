//! What the engine offers the sync client (`crates/sync`) and `sqlexam receipt verify`: the
//! outbox's other half. Servers' keys are pinned at first contact; their checkpoints and the
//! inclusion proof of each record are kept, and a record counts as synced only once its
//! proof is stored ([`Store::store_receipts`](super::store::Store)).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::store::ReadOnlyStore;
pub use super::store::{StoredCheckpoint, StoredReceipt};
use super::{Engine, SessionError, lock};
use crate::crypto::PublicKey;
use crate::record::Record;
use crate::tlog::{Checkpoint, check_consistency, check_inclusion, decode_proof, open_checkpoint};

/// How far this device's records have reached a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncCounts {
    /// Records without a server's proof yet.
    pub unsent: usize,
    /// When a server's checkpoint was last received (wall clock ms), if ever.
    pub last_receipt_wall_ms: Option<i64>,
}

impl Engine {
    /// The key pinned for the server at `url`, if this device has talked to it.
    pub fn pinned_server(&self, url: &str) -> Result<Option<PublicKey>, SessionError> {
        let Some(hex) = lock(&self.inner.store).pinned_server(url)? else {
            return Ok(None);
        };
        PublicKey::from_hex(&hex).map(Some).ok_or_else(|| {
            SessionError::store_says(format!("the key pinned for {url} is damaged: {hex:?}"))
        })
    }

    /// Pins `key` for `url` (first contact); an existing pin is kept.
    pub fn pin_server(&self, url: &str, key: &PublicKey) -> Result<(), SessionError> {
        lock(&self.inner.store).pin_server(url, &key.to_hex(), self.inner.clock.wall_ms())
    }

    /// The newest checkpoint of `server`'s log this device holds, re-verified.
    pub fn newest_checkpoint(
        &self,
        server: &PublicKey,
    ) -> Result<Option<Checkpoint>, SessionError> {
        let Some(stored) = lock(&self.inner.store).newest_checkpoint(&server.key_id())? else {
            return Ok(None);
        };
        open_checkpoint(&stored.note, server)
            .map(Some)
            .map_err(|e| {
                SessionError::store(format!("the stored checkpoint of size {}", stored.size), e)
            })
    }

    /// The bytes of records `from..=to` of `session`, by seq.
    pub fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SessionError> {
        lock(&self.inner.store).record_bytes(session, from, to)
    }

    /// Stores a verified checkpoint and proofs; each proven record becomes synced. Returns
    /// how many records became synced.
    pub fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SessionError> {
        lock(&self.inner.store).store_receipts(checkpoint, proofs)
    }

    /// Keeps that `server` showed a log contradicting this machine's checkpoints.
    pub fn note_log_alert(&self, server: &PublicKey, message: &str) -> Result<(), SessionError> {
        let now = self.inner.clock.wall_ms();
        lock(&self.inner.store).add_log_alert(&server.key_id(), now, message)
    }

    /// For each session with records not yet synced: its first and last such seq (what a
    /// sync client asks a server about before sending).
    pub fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SessionError> {
        lock(&self.inner.store).unsent_ranges()
    }

    pub fn sync_counts(&self) -> Result<SyncCounts, SessionError> {
        let (unsent, last) = lock(&self.inner.store).sync_counts()?;
        Ok(SyncCounts {
            unsent,
            last_receipt_wall_ms: last,
        })
    }
}

/// What `sqlexam receipt verify` found in a store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptReport {
    /// Per server key id: checkpoints verified (signature and consistency chain).
    pub checkpoints: BTreeMap<String, usize>,
    /// Records whose inclusion proof verified against a verified checkpoint.
    pub proven: usize,
    /// Records in the store.
    pub records: usize,
    /// Records marked synced without a proof that verifies.
    pub synced_unproven: usize,
    /// Everything that failed, one sentence each.
    pub problems: Vec<String>,
}

impl ReceiptReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks, offline, every receipt a store holds against the server keys in `keys` (a
/// receipt of a server not in `keys` is reported, not trusted): each checkpoint's signature,
/// the consistency proofs chaining each server's checkpoints, and each record's inclusion
/// proof against the record's own bytes.
pub fn verify_store_receipts(
    path: &Path,
    keys: &[PublicKey],
) -> Result<ReceiptReport, SessionError> {
    let store = ReadOnlyStore::open(path)?;
    let (checkpoints, receipts) = store.receipts()?;
    let records = store.records()?;
    let acked = store.acked()?;
    Ok(check_receipts(
        &checkpoints,
        &receipts,
        &records,
        &acked,
        keys,
    ))
}

/// Every time a server showed this machine a log contradicting its checkpoints, read
/// without changing the store: `(server key id, wall ms, message)`, oldest first.
pub fn read_log_alerts(path: &Path) -> Result<Vec<(String, i64, String)>, SessionError> {
    ReadOnlyStore::open(path)?.log_alerts()
}

/// What a store (or a results bundle) keeps of servers' receipts, read without changing it.
#[derive(Debug, Clone, Default)]
pub struct HeldReceipts {
    /// `(url, raw public key hex)` of each server this device pinned.
    pub servers: Vec<(String, String)>,
    pub checkpoints: Vec<StoredCheckpoint>,
    pub receipts: Vec<StoredReceipt>,
}

/// Reads a store's pinned servers, checkpoints and proofs read-only.
pub fn read_store_receipts(path: &Path) -> Result<HeldReceipts, SessionError> {
    let store = ReadOnlyStore::open(path)?;
    let (checkpoints, receipts) = store.receipts()?;
    Ok(HeldReceipts {
        servers: store.servers()?,
        checkpoints,
        receipts,
    })
}

/// Checks receipts against the server keys in `keys`: each checkpoint's signature (in the
/// order given), the consistency proofs chaining each server's checkpoints, each proof
/// against the bytes of the record it names in `records`, and that every record in `acked`
/// is proven.
pub fn check_receipts(
    checkpoints: &[StoredCheckpoint],
    receipts: &[StoredReceipt],
    records: &[crate::record::SignedRecord],
    acked: &[(String, u64)],
    keys: &[PublicKey],
) -> ReceiptReport {
    let by_id: HashMap<String, &PublicKey> = keys.iter().map(|k| (k.key_id(), k)).collect();
    let mut report = ReceiptReport {
        records: records.len(),
        ..ReceiptReport::default()
    };

    // Checkpoints in the order they came: each must verify and be one history with the
    // server's newest before it.
    let mut opened: HashMap<(String, u64), Checkpoint> = HashMap::new();
    let mut newest: HashMap<String, Checkpoint> = HashMap::new();
    for c in checkpoints {
        let Some(key) = by_id.get(&c.server) else {
            report.problems.push(format!(
                "a checkpoint of server {} (size {}), whose key was not given",
                c.server, c.size
            ));
            continue;
        };
        let cp = match open_checkpoint(&c.note, key) {
            Ok(cp) if cp.size == c.size => cp,
            Ok(cp) => {
                report.problems.push(format!(
                    "server {}: a checkpoint stored as size {} says size {}",
                    c.server, c.size, cp.size
                ));
                continue;
            }
            Err(e) => {
                report.problems.push(format!(
                    "server {}: checkpoint of size {}: {e}",
                    c.server, c.size
                ));
                continue;
            }
        };
        if let Some(before) = newest.get(&c.server) {
            let consistent = decode_proof(&c.consistency)
                .and_then(|proof| check_consistency(before, &cp, &proof));
            if let Err(e) = consistent {
                report.problems.push(format!(
                    "server {}: checkpoint of size {}: {e}",
                    c.server, c.size
                ));
                continue;
            }
        }
        *report.checkpoints.entry(c.server.clone()).or_default() += 1;
        opened.insert((c.server.clone(), c.size), cp.clone());
        if newest.get(&c.server).is_none_or(|n| n.size < cp.size) {
            newest.insert(c.server.clone(), cp);
        }
    }

    // Inclusion proofs, against the records' own bytes.
    let bytes: HashMap<(String, u64), &[u8]> = records
        .iter()
        .filter_map(|r| {
            let record: Record = serde_json::from_slice(&r.bytes).ok()?;
            Some(((record.session, record.seq), r.bytes.as_slice()))
        })
        .collect();
    let mut proven: HashSet<(String, u64)> = HashSet::new();
    for r in receipts {
        let Some(cp) = opened.get(&(r.server.clone(), r.size)) else {
            report.problems.push(format!(
                "record {} of session {}: its proof is against a checkpoint (server {}, size {}) that is missing or did not verify",
                r.seq, r.session, r.server, r.size
            ));
            continue;
        };
        let Some(record) = bytes.get(&(r.session.clone(), r.seq)) else {
            report.problems.push(format!(
                "a proof for record {} of session {}, which the store does not hold",
                r.seq, r.session
            ));
            continue;
        };
        match decode_proof(&r.proof)
            .and_then(|proof| check_inclusion(cp, r.leaf, record, &proof, &r.session, r.seq))
        {
            Ok(()) => {
                proven.insert((r.session.clone(), r.seq));
            }
            Err(e) => report.problems.push(e.to_string()),
        }
    }
    report.proven = proven.len();
    report.synced_unproven = acked.iter().filter(|k| !proven.contains(*k)).count();
    if report.synced_unproven > 0 {
        report.problems.push(format!(
            "{} records are marked synced without a proof that verifies",
            report.synced_unproven
        ));
    }
    report
}
