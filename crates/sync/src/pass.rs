//! One sync pass: resume from what the server holds, send the outbox, keep the proofs.

use std::collections::BTreeMap;

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::log::{
    LogError, check_consistency, check_inclusion, decode_proof, open_checkpoint,
};
use sqlexam_core::protocol::Receipt;
use sqlexam_core::session::{Engine, StoredCheckpoint, StoredReceipt};

use crate::{Client, SyncError};

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Records sent in batches.
    pub sent: usize,
    /// Records newly marked synced (their proofs stored).
    pub synced: usize,
    /// Batches posted.
    pub batches: usize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The server key this device trusts for `client`'s server: the one pinned at first
/// contact, or — at first contact — the one the server presents, pinned now.
async fn server_key(engine: &Engine, client: &Client) -> Result<PublicKey, SyncError> {
    let url = &client.server().url;
    if let Some(key) = engine.pinned_server(url)? {
        return Ok(key);
    }
    let key = client.server_key().await?;
    engine.pin_server(url, &key)?;
    Ok(key)
}

/// Checks `receipt` against `server`'s key, the device's newest checkpoint (consistency,
/// asked of the server when the sizes differ) and the device's own record bytes; stores
/// the checkpoint and proofs and marks the proven records synced. Returns how many records
/// became synced. On any failure nothing is stored.
pub async fn accept_receipt(
    engine: &Engine,
    client: &Client,
    server: &PublicKey,
    receipt: &Receipt,
) -> Result<usize, SyncError> {
    let checkpoint = open_checkpoint(&receipt.checkpoint, server)?;
    let consistency = match engine.newest_checkpoint(server)? {
        None => Vec::new(),
        Some(old) if old.size == checkpoint.size => {
            check_consistency(&old, &checkpoint, &[])?;
            Vec::new()
        }
        // A log only grows, and a server signs its current head: a smaller one than it
        // showed this device before means records were dropped.
        Some(old) if old.size > checkpoint.size => {
            return Err(LogError::Inconsistent {
                old: old.size,
                new: checkpoint.size,
            }
            .into());
        }
        // Every tree extends the empty one.
        Some(old) if old.size == 0 => Vec::new(),
        Some(old) => {
            let (from, to) = (old.size, checkpoint.size);
            let proof = client.consistency(from, to).await?;
            if (proof.from, proof.to) != (from, to) {
                return Err(SyncError::Untrusted(format!(
                    "asked for the consistency of {from} and {to} records, the server answered for {} and {}",
                    proof.from, proof.to
                )));
            }
            check_consistency(&old, &checkpoint, &decode_proof(&proof.proof)?)?;
            proof.proof
        }
    };
    let mut proofs = Vec::with_capacity(receipt.entries.len());
    if let (Some(lo), Some(hi)) = (
        receipt.entries.iter().map(|e| e.seq).min(),
        receipt.entries.iter().map(|e| e.seq).max(),
    ) {
        let bytes: BTreeMap<u64, Vec<u8>> = engine
            .record_bytes(&receipt.session, lo, hi)?
            .into_iter()
            .collect();
        for entry in &receipt.entries {
            // A proof of a record this device does not hold proves nothing to it.
            let Some(record) = bytes.get(&entry.seq) else {
                continue;
            };
            check_inclusion(
                &checkpoint,
                entry.leaf,
                record,
                &decode_proof(&entry.proof)?,
                &receipt.session,
                entry.seq,
            )?;
            proofs.push(StoredReceipt {
                server: server.key_id(),
                session: receipt.session.clone(),
                seq: entry.seq,
                leaf: entry.leaf,
                size: checkpoint.size,
                proof: entry.proof.clone(),
            });
        }
    }
    let stored = StoredCheckpoint {
        server: server.key_id(),
        size: checkpoint.size,
        note: checkpoint.note,
        consistency,
        received_wall_ms: now_ms(),
    };
    Ok(engine.store_receipts(&stored, &proofs)?)
}

/// Asks the server what it holds of each session with unsent records and keeps the proofs
/// it gives, so only what the server lacks is sent.
async fn resume(engine: &Engine, client: &Client, server: &PublicKey) -> Result<usize, SyncError> {
    let mut first_unsent: BTreeMap<String, u64> = BTreeMap::new();
    for r in engine.outbox(usize::MAX >> 1)? {
        let seq = first_unsent.entry(r.session).or_insert(r.seq);
        *seq = (*seq).min(r.seq);
    }
    let mut synced = 0;
    for (session, mut from) in first_unsent {
        loop {
            let held = client.session(&session, from).await?;
            synced += accept_receipt(engine, client, server, &held.receipt).await?;
            match held.receipt.entries.iter().map(|e| e.seq).max() {
                // The receipt stopped short of what the server holds: ask for the rest.
                Some(last) if last < held.receipt.seq && last >= from => from = last + 1,
                _ => break,
            }
        }
    }
    Ok(synced)
}

/// One pass: (when `resume`) asks what the server holds, then sends the outbox in batches
/// until it is empty. `progress` hears the number of unsent records after each step.
pub async fn sync_pass(
    engine: &Engine,
    client: &Client,
    resume_first: bool,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<PassReport, SyncError> {
    let server = server_key(engine, client).await?;
    let mut report = PassReport::default();
    if resume_first {
        report.synced += resume(engine, client, &server).await?;
        progress(engine.sync_counts()?.unsent);
    }
    loop {
        let batch = engine.outbox(client.batch_size())?;
        if batch.is_empty() {
            return Ok(report);
        }
        let lines: Vec<String> = batch.iter().map(|r| r.record.to_export_line()).collect();
        let outcome = client.post_batch(&lines).await?;
        report.sent += lines.len();
        report.batches += 1;
        let mut synced = 0;
        for session in &outcome.sessions {
            synced += accept_receipt(engine, client, &server, &session.receipt).await?;
        }
        report.synced += synced;
        progress(engine.sync_counts()?.unsent);
        if synced == 0 {
            // Nothing of this batch became provably held: sending it again would not help.
            let why = outcome.rejected.first().map_or_else(
                || {
                    outcome
                        .sessions
                        .iter()
                        .find_map(|s| {
                            s.gap.map(|[a, b]| {
                                format!(
                                    "the server holds session {} back: it lacks seqs {a} to {b}",
                                    s.session
                                )
                            })
                        })
                        .unwrap_or_else(|| "the server took the batch but proved none of it".into())
                },
                |r| {
                    format!(
                        "the server refused record {} of session {}: {} ({})",
                        r.seq.unwrap_or(0),
                        r.session.clone().unwrap_or_default(),
                        r.message,
                        r.code
                    )
                },
            );
            return Err(SyncError::Refused(why));
        }
    }
}
