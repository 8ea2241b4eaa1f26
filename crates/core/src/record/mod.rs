//! Result records: every graded submission, refusal and proctor action becomes an immutable
//! record, serialized once to JSON bytes, signed by the device key over exactly those bytes
//! (with a domain prefix), and chained to the previous record of the same session by hash.
//! Verification never re-serializes: it checks the stored bytes, then parses them.

mod verify;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use verify::{
    Expectations, Finding, SessionAdmission, admissions, parse_export, verify_records,
};

use crate::crypto::{SigningKey, sha256_hex};
use crate::encoding::hex;
use crate::grade::{GroupScore, Verdict};
use crate::problem::WhileClosed;

/// Domain prefix of record signatures.
pub const RECORD_DOMAIN: &[u8] = b"sqlexam record v1\n";
pub const FORMAT: &str = "sqlexam-record/1";
/// `prev` of a session's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub format: String,
    /// Key id of the device that wrote (and signed) the record.
    pub device: String,
    pub session: String,
    /// 1, 2, 3 … contiguous per device and session.
    pub seq: u64,
    /// Hex SHA-256 of the previous record's bytes ([`GENESIS`] for seq 1).
    pub prev: String,
    pub pack: PackRef,
    pub candidate: String,
    /// The device's clock when the record was written: informative only.
    pub wall_time: String,
    /// Exam time used when the record was written.
    pub elapsed_ms: u64,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    pub id: String,
    pub version: String,
    /// SHA-256 of the pack's signed manifest.
    pub hash: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    SessionStarted {
        candidate_name: String,
        /// The device's raw Ed25519 public key (hex): verifies this session's records.
        device_public_key: String,
        duration_ms: u64,
        while_closed: WhileClosed,
        /// The highest version of each pack this device had accepted (freshness evidence).
        packs_seen: BTreeMap<String, String>,
        /// How the candidate was admitted, when the pack has a roster: a signature over
        /// [`crate::pack::admission_statement`] by their admission code's key or the
        /// proctor key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admission: Option<crate::pack::Admission>,
    },
    Submission {
        submission_id: u64,
        /// Exam time when the candidate submitted (the record may be written later).
        submitted_elapsed_ms: u64,
        problem: String,
        sql: String,
        verdict: Verdict,
        score: u32,
        max_score: u32,
        groups: Vec<GroupScore>,
        /// Each dataset's verdict (no step counts: they could encode secret data).
        datasets: Vec<DatasetVerdict>,
        grader_version: String,
        sqlite_version: String,
        /// How long grading took on this device.
        grading_ms: f64,
    },
    SubmissionRefused {
        submission_id: u64,
        problem: String,
        sql: String,
        /// "time_up" or "session_ended".
        reason: String,
    },
    Proctor {
        action: ProctorAction,
        /// The proctor's signature over [`proctor_statement`] of this record: proof that
        /// someone with the proctor passphrase acted, which the device key cannot give.
        /// Absent only in records written before proctors had keys.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<ProctorProof>,
    },
    SessionEnded {
        /// "time_up", "finished" (by the candidate) or "proctor".
        reason: String,
    },
    /// The session stopped running without the candidate ending it: `cause` is `closed`
    /// (the app was closed normally), `stopped` (the app or machine stopped without closing:
    /// a crash, a kill, power lost) or `suspended` (the machine slept). Written when it is
    /// noticed: at the next start, or when the machine wakes. Under the "paused" policy a
    /// proctor's `resume` record follows; under "running", a `reopened` record.
    Interrupted { cause: String },
    /// The app reopened a session whose clock kept running while it was closed.
    Reopened {
        /// Exam time counted for the time the app was closed.
        closed_ms: u64,
    },
}

impl Event {
    /// The kind code, as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SessionStarted { .. } => "session_started",
            Event::Submission { .. } => "submission",
            Event::SubmissionRefused { .. } => "submission_refused",
            Event::Proctor { .. } => "proctor",
            Event::SessionEnded { .. } => "session_ended",
            Event::Interrupted { .. } => "interrupted",
            Event::Reopened { .. } => "reopened",
        }
    }

    /// Language-neutral facts (ids, codes, numbers) to show beside the translated kind.
    pub fn summary(&self) -> String {
        let code = |v: &Verdict| {
            serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        match self {
            Event::SessionStarted { candidate_name, .. } => candidate_name.clone(),
            Event::Submission {
                problem,
                verdict,
                score,
                max_score,
                ..
            } => {
                format!("{problem} · {} · {score}/{max_score}", code(verdict))
            }
            Event::SubmissionRefused {
                problem, reason, ..
            } => format!("{problem} · {reason}"),
            Event::Proctor {
                action: ProctorAction::Extend { minutes },
                ..
            } => format!("extend · +{minutes} min"),
            Event::Proctor {
                action: ProctorAction::End,
                ..
            } => "end".into(),
            Event::Proctor {
                action: ProctorAction::Resume,
                ..
            } => "resume".into(),
            Event::SessionEnded { reason } => reason.clone(),
            Event::Interrupted { cause } => cause.clone(),
            Event::Reopened { closed_ms } => format!("{} s", closed_ms / 1000),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetVerdict {
    pub name: String,
    pub verdict: Verdict,
}

/// A proctor's signature: `statement` is what was signed (after
/// [`crate::pack::PROCTOR_DOMAIN`]), and must equal [`proctor_statement`] of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProctorProof {
    pub statement: String,
    /// Ed25519, hex.
    pub signature: String,
}

/// What a proctor signs for an action: it binds the action to one session and to its place
/// in that session's chain (seq and the previous record's hash), so a signature cannot be
/// moved to another session, repeated later, or reused for another action.
pub fn proctor_statement(session: &str, seq: u64, prev: &str, action: &ProctorAction) -> String {
    let action = match action {
        ProctorAction::Extend { minutes } => format!("extend:{minutes}"),
        ProctorAction::End => "end".into(),
        ProctorAction::Resume => "resume".into(),
    };
    format!("session={session}\nseq={seq}\nprev={prev}\naction={action}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProctorAction {
    /// More exam time for this candidate.
    Extend { minutes: u32 },
    /// End the exam for this candidate now.
    End,
    /// Restart the clock of a session interrupted by a crash or close.
    Resume,
}

/// A record as stored and sent: its exact bytes, their signature and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
}

impl SignedRecord {
    /// Serializes `record` once and signs those bytes.
    pub fn sign(record: &Record, key: &SigningKey) -> SignedRecord {
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        let signature = key.sign(RECORD_DOMAIN, &bytes).to_vec();
        SignedRecord { bytes, signature }
    }

    /// Hex SHA-256 of the bytes: the next record's `prev`.
    pub fn hash(&self) -> String {
        sha256_hex(&self.bytes)
    }

    /// One line of an export file: `{"bytes": "<the record JSON>", "signature": "<hex>"}`.
    pub fn to_export_line(&self) -> String {
        let line = serde_json::json!({
            "bytes": String::from_utf8_lossy(&self.bytes),
            "signature": hex(&self.signature),
        });
        line.to_string()
    }
}
