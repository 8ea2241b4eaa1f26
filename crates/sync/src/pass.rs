//! One sync pass: resume from what the server holds, send the outbox, keep the proofs.

use std::collections::BTreeMap;

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::{BatchOutcome, Receipt};
use sqlexam_core::session::{StoredCheckpoint, StoredReceipt};
use sqlexam_core::tlog::{
    LogError, check_consistency, check_inclusion, decode_proof, open_checkpoint,
};

use crate::{Client, Outbox, SyncError};

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

/// The server key this side trusts for `client`'s server: the one pinned at first
/// contact, or — at first contact — the one the server presents, pinned now.
async fn server_key(engine: &dyn Outbox, client: &Client) -> Result<PublicKey, SyncError> {
    let url = &client.server().url;
    if let Some(key) = engine.pinned_server(url)? {
        return Ok(key);
    }
    let key = client.server_key().await?;
    engine.pin_server(url, &key)?;
    Ok(key)
}

/// What a receipt gave: records newly synced, or — when the server proves another record
/// than this device's at some seq of the session (another device with the session's id, or
/// a proof that does not hold) — why nothing of the session was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Synced(usize),
    Mismatch(String),
}

/// Opens `note`, a checkpoint of `server`'s log, and checks that it extends the newest
/// checkpoint this device holds of that log (asking the server for the consistency proof
/// when the sizes differ): a log only grows, so a smaller or different one means the server
/// dropped or rewrote records it had shown. Returns the checkpoint and the proof.
async fn extends_checked(
    engine: &dyn Outbox,
    client: &Client,
    server: &PublicKey,
    note: &str,
) -> Result<(sqlexam_core::tlog::Checkpoint, Vec<String>), SyncError> {
    let checkpoint = open_checkpoint(note, server)?;
    // The store keeps these as SQLite integers: a server's number past that is nonsense.
    if checkpoint.size > i64::MAX as u64 {
        return Err(SyncError::Untrusted(
            "the checkpoint's size is too large to be a log size".into(),
        ));
    }
    let consistency = match engine.newest_checkpoint(server)? {
        None => Vec::new(),
        // A log only grows, and a server signs its current head: a smaller one than it
        // showed this device before means records were dropped.
        Some(old) if old.size > checkpoint.size => {
            return Err(LogError::Inconsistent {
                old: old.size,
                new: checkpoint.size,
            }
            .into());
        }
        Some(old) => {
            // Only a larger tree over a non-empty one needs the server's proof; equal sizes
            // must have equal roots, and every tree extends the empty one.
            let proof = if old.size > 0 && old.size < checkpoint.size {
                let (from, to) = (old.size, checkpoint.size);
                let proof = client.consistency(from, to).await?;
                if (proof.from, proof.to) != (from, to) {
                    return Err(SyncError::Untrusted(format!(
                        "asked for the consistency of {from} and {to} records, the server answered for {} and {}",
                        proof.from, proof.to
                    )));
                }
                proof.proof
            } else {
                Vec::new()
            };
            check_consistency(&old, &checkpoint, &decode_proof(&proof)?)?;
            proof
        }
    };
    Ok((checkpoint, consistency))
}

/// [`extends_checked`], keeping on this side that the server showed a log that does not
/// extend what it showed before (the proctor's export reports it).
async fn extends(
    engine: &dyn Outbox,
    client: &Client,
    server: &PublicKey,
    note: &str,
) -> Result<(sqlexam_core::tlog::Checkpoint, Vec<String>), SyncError> {
    let checked = extends_checked(engine, client, server, note).await;
    if let Err(SyncError::Disproved(e)) = &checked {
        engine.note_log_alert(server, &e.to_string())?;
    }
    checked
}

/// Checks that `client`'s server still holds the history it showed this device: its log's
/// checkpoint now must extend the newest one held (see [`extends`]), which is then kept as
/// the newest. A device with nothing of the server yet has nothing to check. Run at the
/// start of every pass that resumes, and now and then while everything is synced, so a
/// server restored from an older backup (or whose history was rewritten) is caught by a
/// machine that has nothing left to send.
pub async fn check_log(engine: &dyn Outbox, client: &Client) -> Result<(), SyncError> {
    let Some(server) = engine.pinned_server(&client.server().url)? else {
        return Ok(());
    };
    if engine.newest_checkpoint(&server)?.is_none() {
        return Ok(());
    }
    let head = client.checkpoint().await?;
    let (checkpoint, consistency) = extends(engine, client, &server, &head.checkpoint).await?;
    // What witnesses were shown must be the same history as what this device is shown.
    if let Some(note) = &head.witnessed {
        let witnessed = open_checkpoint(note, &server)?;
        let (small, large) = if witnessed.size <= checkpoint.size {
            (witnessed.size, checkpoint.size)
        } else {
            (checkpoint.size, witnessed.size)
        };
        let proof = if small > 0 && small < large {
            client.consistency(small, large).await?.proof
        } else {
            Vec::new()
        };
        if let Err(e) = check_consistency(&witnessed, &checkpoint, &decode_proof(&proof)?) {
            engine.note_log_alert(
                &server,
                &format!("the checkpoint its witnesses cosigned is of another history: {e}"),
            )?;
            return Err(e.into());
        }
    }
    let stored = StoredCheckpoint {
        server: server.key_id(),
        size: checkpoint.size,
        note: checkpoint.note,
        consistency,
        received_wall_ms: now_ms(),
    };
    engine.store_receipts(&stored, &[])?;
    Ok(())
}

/// Through a venue relay: keeps what the central server proved of this side's sessions
/// (`GET /v1/upstream/sessions/{id}`), checked as a direct receipt would be — each central
/// checkpoint signed by the central key the relay pinned and consistent with the one before
/// it, each proof against this side's own record bytes — so the machine can show the
/// central server's receipts too (`receipt verify --server-key central.pem`). A server that
/// is no relay answers 404, and nothing is kept. Returns the proofs kept.
pub async fn keep_upstream(engine: &dyn Outbox, client: &Client) -> Result<usize, SyncError> {
    let mut kept = 0;
    for session in engine.sessions()? {
        let Some(up) = client.upstream(&session).await? else {
            return Ok(kept);
        };
        let key = PublicKey::from_hex(&up.public_key).ok_or_else(|| {
            SyncError::Untrusted(format!(
                "the relay names a central key that is not a key: {:?}",
                up.public_key
            ))
        })?;
        let mut opened = Vec::with_capacity(up.checkpoints.len());
        let mut before: Option<sqlexam_core::tlog::Checkpoint> = None;
        for c in &up.checkpoints {
            let checkpoint = open_checkpoint(&c.note, &key)?;
            if checkpoint.size != c.size || checkpoint.size > i64::MAX as u64 {
                return Err(SyncError::Untrusted(format!(
                    "the relay lists a central checkpoint of {} records as one of {}",
                    checkpoint.size, c.size
                )));
            }
            if let Some(b) = &before {
                check_consistency(b, &checkpoint, &decode_proof(&c.consistency)?)?;
            }
            before = Some(checkpoint.clone());
            opened.push((c, checkpoint));
        }
        let (Some(lo), Some(hi)) = (
            up.proofs.iter().map(|p| p.seq).min(),
            up.proofs.iter().map(|p| p.seq).max(),
        ) else {
            continue;
        };
        let bytes: BTreeMap<u64, Vec<u8>> =
            engine.record_bytes(&session, lo, hi)?.into_iter().collect();
        for (c, checkpoint) in &opened {
            let mut proofs = Vec::new();
            for p in up.proofs.iter().filter(|p| p.size == c.size) {
                let Some(record) = bytes.get(&p.seq) else {
                    continue;
                };
                check_inclusion(
                    checkpoint,
                    p.leaf,
                    record,
                    &decode_proof(&p.proof)?,
                    &session,
                    p.seq,
                )?;
                proofs.push(StoredReceipt {
                    server: key.key_id(),
                    session: session.clone(),
                    seq: p.seq,
                    leaf: p.leaf,
                    size: p.size,
                    proof: p.proof.clone(),
                });
            }
            let stored = StoredCheckpoint {
                server: key.key_id(),
                size: c.size,
                note: c.note.clone(),
                consistency: c.consistency.clone(),
                received_wall_ms: now_ms(),
            };
            engine.store_receipts(&stored, &proofs)?;
            kept += proofs.len();
        }
    }
    Ok(kept)
}

/// Checks `receipt` against `server`'s key, the device's newest checkpoint (consistency,
/// asked of the server when the sizes differ) and the device's own record bytes; stores
/// the checkpoint and proofs and marks the proven records synced. A checkpoint that does
/// not hold is an error (nothing from this server can be taken); an inclusion proof that
/// does not hold for one of this device's records is the session's problem
/// ([`Accepted::Mismatch`]). Either way nothing of the receipt is stored.
pub async fn accept_receipt(
    engine: &dyn Outbox,
    client: &Client,
    server: &PublicKey,
    receipt: &Receipt,
) -> Result<Accepted, SyncError> {
    let (checkpoint, consistency) = extends(engine, client, server, &receipt.checkpoint).await?;
    if receipt
        .entries
        .iter()
        .any(|e| e.seq > i64::MAX as u64 || e.leaf > i64::MAX as u64)
    {
        return Err(SyncError::Untrusted(
            "the receipt has a number too large to be a seq or leaf".into(),
        ));
    }
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
            let included = decode_proof(&entry.proof).and_then(|proof| {
                check_inclusion(
                    &checkpoint,
                    entry.leaf,
                    record,
                    &proof,
                    &receipt.session,
                    entry.seq,
                )
            });
            if let Err(e) = included {
                return Ok(Accepted::Mismatch(e.to_string()));
            }
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
    Ok(Accepted::Synced(engine.store_receipts(&stored, &proofs)?))
}

/// Asks the server what it holds of each session with unsent records and keeps the proofs
/// it gives, so only what the server lacks is sent. Asks again from where a receipt
/// stopped (a receipt proves at most 10,000 records), never past the device's own last
/// record, and stops when an answer proves nothing new. A session of which the server
/// holds other records than this device (its store went back to an older copy, or another
/// device used the session id) goes into `conflicts` with why: its records are still sent,
/// so the server keeps them as evidence and raises the rollback, but none is marked synced.
async fn resume(
    engine: &dyn Outbox,
    client: &Client,
    server: &PublicKey,
    conflicts: &mut BTreeMap<String, String>,
) -> Result<usize, SyncError> {
    let mut synced = 0;
    for (session, mut from, last) in engine.unsent_ranges()? {
        while from <= last {
            let held = client.session(&session, from).await?;
            match accept_receipt(engine, client, server, &held.receipt).await? {
                Accepted::Synced(n) => synced += n,
                Accepted::Mismatch(why) => {
                    conflicts.insert(
                        session.clone(),
                        format!(
                            "the server holds other records of session {session} than this machine ({why}): this machine's store went back to an older copy, or another machine used the session; its records were sent to the server as evidence, and none counts as synced"
                        ),
                    );
                    break;
                }
            }
            match held.receipt.entries.iter().map(|e| e.seq).max() {
                // The receipt stopped short of what the server holds: ask for the rest.
                Some(end) if end < held.receipt.seq && end >= from => from = end + 1,
                _ => break,
            }
        }
    }
    Ok(synced)
}

/// Why a batch proved none of its records, in a sentence.
fn refusal(outcome: &BatchOutcome, session: &str) -> String {
    if let Some(r) = outcome
        .rejected
        .iter()
        .find(|r| r.session.as_deref() == Some(session))
    {
        return format!(
            "the server refused record {} of session {session}: {} ({})",
            r.seq.unwrap_or(0),
            r.message,
            r.code
        );
    }
    outcome
        .sessions
        .iter()
        .find(|s| s.session == session)
        .and_then(|s| s.gap)
        .map_or_else(
            || format!("the server took session {session}'s records but proved none of them"),
            |[a, b]| format!("the server holds session {session} back: it lacks seqs {a} to {b}"),
        )
}

/// One pass: (when `resume`) asks what the server holds, then sends every unsent record in
/// batches, in seq order per session. A session of which a batch got nothing proven (its
/// records refused, or held back behind a gap) is set aside for the rest of the pass, so
/// it does not hold up the others; the pass then ends with the reason — a conflict with
/// what the server holds first. `progress` hears the number of unsent records after each
/// step.
pub async fn sync_pass(
    engine: &dyn Outbox,
    client: &Client,
    resume_first: bool,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<PassReport, SyncError> {
    let server = server_key(engine, client).await?;
    if resume_first {
        check_log(engine, client).await?;
    }
    let mut report = PassReport::default();
    let mut set_aside: BTreeMap<String, String> = BTreeMap::new();
    let mut conflicts: BTreeMap<String, String> = BTreeMap::new();
    if resume_first {
        report.synced += resume(engine, client, &server, &mut conflicts).await?;
        progress(engine.sync_counts()?.unsent);
    }
    // In the order they were written (each session's in seq order).
    let mut queue = engine.outbox()?;
    queue.retain(|r| !set_aside.contains_key(&r.session));
    while !queue.is_empty() {
        let take = client.batch_size().min(queue.len());
        let batch: Vec<_> = queue.drain(..take).collect();
        let lines: Vec<String> = batch.iter().map(|r| r.record.to_export_line()).collect();
        let outcome = client.post_batch(&lines).await?;
        report.sent += lines.len();
        report.batches += 1;
        let mut proven: BTreeMap<&str, usize> = BTreeMap::new();
        for session in &outcome.sessions {
            match accept_receipt(engine, client, &server, &session.receipt).await? {
                Accepted::Synced(n) => {
                    report.synced += n;
                    *proven.entry(session.session.as_str()).or_default() += n;
                }
                Accepted::Mismatch(why) => {
                    set_aside.insert(session.session.clone(), why);
                }
            }
        }
        progress(engine.sync_counts()?.unsent);
        let sent: std::collections::BTreeSet<&str> =
            batch.iter().map(|r| r.session.as_str()).collect();
        for session in sent {
            if proven.get(session).copied().unwrap_or(0) == 0 && !set_aside.contains_key(session) {
                set_aside.insert(session.to_owned(), refusal(&outcome, session));
            }
        }
        queue.retain(|r| !set_aside.contains_key(&r.session));
    }
    match conflicts
        .into_values()
        .chain(set_aside.into_values())
        .next()
    {
        None => {
            // Through a relay, the central server's receipts too.
            if resume_first {
                keep_upstream(engine, client).await?;
            }
            Ok(report)
        }
        Some(why) => Err(SyncError::Refused(why)),
    }
}
