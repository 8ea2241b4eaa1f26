//! The wire types the server, the sync client and the dashboard share (docs/api.md).
//!
//! A batch of records travels in the export's format, one `{"bytes", "signature"}` JSON
//! object per line ([`crate::record::SignedRecord::to_export_line`]), so an export file, a
//! sync batch and a proctor's bundle are one format. The server answers with what it now
//! holds of each session and a **receipt**: its signed checkpoint of its append-only record
//! log and, for each record covered, the proof that the record is in that log
//! ([`crate::tlog`], docs/sync.md).

use serde::{Deserialize, Serialize};

/// The media type of a record batch.
pub const NDJSON: &str = "application/x-ndjson";

/// What a server proves about one session's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The server's signed checkpoint (a C2SP signed note) of its log.
    pub checkpoint: String,
    pub session: String,
    /// The highest seq the server holds with every record before it (0: nothing held).
    /// A claim; what a device may mark synced is what `entries` prove.
    pub seq: u64,
    /// Inclusion proofs, against `checkpoint`, of the records this receipt covers.
    pub entries: Vec<Inclusion>,
}

/// Proof that record `seq` of a session is leaf `leaf` of the checkpoint's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inclusion {
    pub seq: u64,
    pub leaf: u64,
    /// Base64 SHA-256 hashes, leaf to root (RFC 6962 audit path).
    pub proof: Vec<String>,
}

/// `GET /v1/log/consistency?from=&to=`: proof that the tree of `to` leaves extends the
/// tree of `from` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

/// `GET /v1/log/checkpoint`: the server's newest signed checkpoint, and the newest one
/// witnesses cosigned (with their cosignature lines), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogHead {
    pub checkpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witnessed: Option<String>,
}

/// The answer to a batch: one entry per session the batch named, and the lines refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub sessions: Vec<SessionOutcome>,
    /// Lines not taken: not stored, and not covered by any receipt.
    pub rejected: Vec<Rejected>,
}

/// What became of one session's records in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOutcome {
    pub session: String,
    /// Records newly stored in the chain (including held-back ones this batch completed).
    pub stored: u64,
    /// Records the server already held, byte for byte.
    pub already_stored: u64,
    /// Seqs where the batch held a record different from the one the server holds: both
    /// are kept as evidence and the session is flagged.
    pub forks: Vec<u64>,
    /// Seqs held back because records before them are missing.
    pub held_back: Vec<u64>,
    /// The first missing seq range, if any, as `[from, to]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<[u64; 2]>,
    pub receipt: Receipt,
}

/// A line of a batch that was refused, and why (`code` is stable, `message` a sentence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// 1-based line of the batch.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub code: String,
    pub message: String,
}

/// `GET /v1/sessions/{id}`: what the server holds of a session, so a device or relay knows
/// what to send next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionHeld {
    pub session: String,
    pub receipt: Receipt,
    pub held_back: Vec<u64>,
}

/// Every error the API returns: a stable code and a sentence naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    /// The line of a batch the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The media type of a proctor's results bundle (`POST /v1/bundles`).
pub const BUNDLE: &str = "application/x-sqlexam-bundle";

/// The answer to `POST /v1/bundles`: the bundle's records taken as a sync would take them,
/// and what its receipts say about this server's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleImport {
    /// SHA-256 of the bundle's signed manifest.
    pub fingerprint: String,
    pub pack: crate::record::PackRef,
    pub venue: String,
    /// `verified`: signed by the proctor key of the pack the server holds;
    /// `pack_not_held`: the server holds no such pack yet, so only the records' own
    /// signatures were checked.
    pub proctor: String,
    pub records: u64,
    pub sessions: Vec<SessionOutcome>,
    pub rejected: Vec<Rejected>,
    /// Receipts in the bundle, signed by this server, that its log does not bear out (the
    /// log lost or rewrote records). Each is also flagged `log_contradiction`.
    pub contradictions: Vec<String>,
}

/// `GET /v1/upstream/sessions/{id}` on a venue relay: what the central server proved of a
/// session the relay forwarded — the central key as the relay pinned it, every central
/// checkpoint the relay accepted (by size, each with its consistency proof from the one
/// before), and the session's inclusion proofs — so a machine behind the relay holds the
/// central server's receipts too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    pub server: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub checkpoints: Vec<UpstreamCheckpoint>,
    pub proofs: Vec<UpstreamProof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamCheckpoint {
    pub size: u64,
    pub note: String,
    pub consistency: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamProof {
    pub seq: u64,
    pub leaf: u64,
    pub size: u64,
    pub proof: Vec<String>,
}
