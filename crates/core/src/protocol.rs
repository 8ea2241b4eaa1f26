//! The wire types the server, the sync client and the dashboard share (docs/api.md).
//!
//! A batch of records travels in the export's format, one `{"bytes", "signature"}` JSON
//! object per line ([`crate::record::SignedRecord::to_export_line`]), so an export file, a
//! sync batch and a proctor's bundle are one format. The server answers with what it now
//! holds of each session and a **receipt**: its signature over the highest contiguous seq it
//! holds and that record's hash, which commits to the whole chain before it.

use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, SigningKey};
use crate::encoding::{hex, unhex};

/// Domain prefix of receipt signatures.
pub const RECEIPT_DOMAIN: &[u8] = b"sqlexam receipt v1\n";
pub const RECEIPT_FORMAT: &str = "sqlexam-receipt/1";
/// The media type of a record batch.
pub const NDJSON: &str = "application/x-ndjson";

/// What a server states about one session. Signed as its exact JSON bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub format: String,
    /// Key id of the server key that signed this receipt.
    pub server: String,
    pub session: String,
    /// The highest seq held with every record before it (0: nothing held).
    pub seq: u64,
    /// Hex SHA-256 of record `seq`'s bytes (the chain's head), or the genesis hash for 0.
    pub hash: String,
    /// The server's clock when it signed (RFC 3339), informative.
    pub issued_at: String,
}

/// A receipt as sent: its exact bytes (a JSON string) and the server's signature (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    pub receipt: String,
    pub signature: String,
}

impl SignedReceipt {
    pub fn sign(receipt: &Receipt, key: &SigningKey) -> SignedReceipt {
        let bytes = serde_json::to_string(receipt).unwrap_or_default();
        let signature = hex(&key.sign(RECEIPT_DOMAIN, bytes.as_bytes()));
        SignedReceipt {
            receipt: bytes,
            signature,
        }
    }

    /// The receipt, if `server` signed exactly these bytes.
    pub fn verify(&self, server: &PublicKey) -> Option<Receipt> {
        let signature = unhex(&self.signature)?;
        if !server.verify(RECEIPT_DOMAIN, self.receipt.as_bytes(), &signature) {
            return None;
        }
        let receipt: Receipt = serde_json::from_str(&self.receipt).ok()?;
        (receipt.format == RECEIPT_FORMAT && receipt.server == server.key_id()).then_some(receipt)
    }
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
    pub receipt: SignedReceipt,
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
    pub receipt: SignedReceipt,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_verifies_only_with_its_server_key_and_exact_bytes() {
        let key = SigningKey::generate().unwrap();
        let receipt = Receipt {
            format: RECEIPT_FORMAT.into(),
            server: key.public().key_id(),
            session: "s1".into(),
            seq: 3,
            hash: "ab".repeat(32),
            issued_at: "2026-11-30T00:00:00Z".into(),
        };
        let signed = SignedReceipt::sign(&receipt, &key);
        assert_eq!(signed.verify(&key.public()), Some(receipt));
        let other = SigningKey::generate().unwrap();
        assert_eq!(signed.verify(&other.public()), None);
        let mut edited = signed.clone();
        edited.receipt = edited.receipt.replace("\"seq\":3", "\"seq\":4");
        assert_eq!(edited.verify(&key.public()), None);
    }
}
