//! The server's facts as plain data, shared by the domain (which decides) and storage
//! (which keeps): sessions, incoming records, plans, submissions, jobs, flags and packs.
//! Nothing here decides anything, touches a database or knows HTTP.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::Localized;
use sqlexam_export::results::Incident;

/// What binds a session: the device that writes it, for which candidate and pack. Fixed by
/// its first record (trust on first use) and checked for every later record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub session: String,
    pub device: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub candidate: String,
    pub candidate_name: String,
    /// The pack id: the exam.
    pub exam: String,
    pub pack_hash: String,
}

/// A record on its way in: from this batch, or held back by an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub seq: u64,
    pub prev: String,
    pub hash: String,
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
}

/// What a store holds of a session when a batch arrives.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Highest contiguous seq (0: none).
    pub seq: u64,
    /// Hash of record `seq` (the genesis hash for 0).
    pub head: String,
    /// The hash of each stored record whose seq the batch also carries.
    pub stored: BTreeMap<u64, String>,
    /// Records held back earlier, waiting for the ones before them.
    pub pending: Vec<Incoming>,
}

/// Why a record is kept as evidence instead of in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkKind {
    /// Another record at a seq the server already held — and had given a receipt for: the
    /// device's chain went backwards (a rolled-back or rewritten store).
    Rollback,
    /// The next seq, but not chained to the record the server holds before it.
    Fork,
}

impl ForkKind {
    pub fn code(self) -> &'static str {
        match self {
            ForkKind::Rollback => "rollback",
            ForkKind::Fork => "fork",
        }
    }
}

/// The decision for one session's records.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Records to append to the chain, in seq order.
    pub append: Vec<Incoming>,
    /// Records kept as evidence only.
    pub forks: Vec<(ForkKind, Incoming)>,
    /// Records of this batch to hold back (not stored before).
    pub hold: Vec<Incoming>,
    /// Held-back records now in the chain or found to be forks: no longer pending.
    pub release: Vec<(u64, String)>,
    pub already_stored: u64,
    /// The session's new head.
    pub seq: u64,
    pub head: String,
    /// Seqs still held back after this batch, and the first missing range.
    pub held_back: Vec<u64>,
    pub gap: Option<[u64; 2]>,
}

/// What records are checked against beyond their session: the exam's pack as the server
/// holds it (`None` if no pack of that exam was uploaded yet).
#[derive(Debug, Clone, Default)]
pub struct Checks {
    pub exam_pack_hash: Option<String>,
    /// The proctor key of the pack the session names, if the server holds that pack:
    /// `Some(None)` when the pack allows no proctor actions.
    pub proctor_key: Option<Option<PublicKey>>,
    /// Where the records came from (a venue token's label, a bundle's venue): recorded on a
    /// session they create.
    pub venue: String,
    /// The exam time the session's pack gives each candidate, if the server holds it.
    pub duration_ms: Option<u64>,
    /// When the session's pack has a roster: the session's candidate's entry on it (`None`:
    /// not listed). `None` when the pack has no roster or is not held.
    pub roster: Option<Option<RosterRow>>,
}

/// A candidate on a pack's roster, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub candidate: String,
    pub name: String,
    /// Raw Ed25519 public key (hex) of their admission code.
    pub public_key: String,
}

/// A new submission to show in results and re-grade.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub seq: u64,
    pub problem: String,
    pub sql: String,
    pub submitted_ms: u64,
    pub verdict: Verdict,
    pub score: u32,
    pub max_score: u32,
}

/// What appending records means beyond the chain: submissions to grade, flags to raise,
/// incidents to show and how far the session got.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub submissions: Vec<NewSubmission>,
    pub flags: Vec<Flag>,
    pub incidents: Vec<Incident>,
    pub progress: Progress,
}

/// What a batch's records add to a session's standing: a store keeps the largest exam time,
/// the earliest and latest wall times, the ending, and adds the proven extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub elapsed_ms: u64,
    pub first_wall: Option<String>,
    pub last_wall: Option<String>,
    /// How the session ended (`time_up`, `finished`, `proctor`), if a record says so.
    pub ended: Option<String>,
    /// Exam time added by proctor extensions whose proctor signature verified.
    pub extended_ms: u64,
    /// How the session was admitted (`code`, `proctor`, `unadmitted`, `no_roster`), once its
    /// first record is taken.
    pub admitted: Option<String>,
}

/// Everything a store writes for one session's batch.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub plan: Plan,
    pub effects: Effects,
}

/// How a store learns what to write: given what it holds of the session (and whether the
/// batch just created it), the domain's decision. A store calls it inside the transaction
/// that loaded `Held`, so the decision and the write see the same state.
pub type Decide = fn(&SessionFacts, &Checks, &Held, &[Incoming], bool) -> Decision;

/// Who a bearer token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Uploads records and fetches packs.
    Venue,
    /// Everything else: exams, packs, results.
    Organizer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Venue => "venue",
            Role::Organizer => "organizer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "venue" => Some(Role::Venue),
            "organizer" => Some(Role::Organizer),
            _ => None,
        }
    }
}

/// A bearer token as listed: never the token itself, only its hash's first characters.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    /// The first 16 hex digits of the token's SHA-256: what `token revoke` takes.
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// An exam's signed pack as the server keeps it.
#[derive(Debug, Clone)]
pub struct StoredPack {
    /// The pack id, which is the exam id.
    pub exam: String,
    pub version: String,
    /// SHA-256 of the signed manifest (what records name).
    pub hash: String,
    pub bytes: Vec<u8>,
    /// The start code, when the pack is sealed: the re-grader needs it.
    pub start_code: Option<String>,
    /// Raw proctor public key (hex) from the signed manifest, if proctors may act.
    pub proctor_key: Option<String>,
    pub uploaded_at: String,
    /// What results need of the opened pack.
    pub outline: Outline,
    /// Its roster, if it has one.
    pub roster: Vec<RosterRow>,
}

/// What an exam's pack defines that results and checks need, read once when the pack is
/// opened: its problems in order with titles and maximums, and its exam time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outline {
    pub problems: Vec<OutlineProblem>,
    pub duration_ms: u64,
    /// Whether the pack has a roster (who may sit, with admission codes).
    #[serde(default)]
    pub roster: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineProblem {
    pub id: String,
    pub title: Localized,
    pub points: u32,
}

/// What the server knows of a pack besides its bytes.
#[derive(Debug, Clone)]
pub struct PackFacts {
    pub exam: String,
    pub version: String,
    pub hash: String,
    pub start_code: Option<String>,
    /// Raw proctor public key (hex), if proctors may act.
    pub proctor_key: Option<String>,
    /// `None` for a pack stored before outlines were kept, until the server reads it again.
    pub outline: Option<Outline>,
}

/// A grading job: one submission record, claimed by one worker at a time.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub exam: String,
    pub session: String,
    pub seq: u64,
    pub pack_hash: String,
    pub problem: String,
    pub sql: String,
    /// What the device recorded, for the re-grade to be held against.
    pub device_verdict: Verdict,
    pub device_score: u32,
}

/// How a worker claims its next job.
#[derive(Debug, Clone)]
pub struct Claim {
    pub worker: String,
    /// How long the claim holds (it must outlast a grader's whole allowance).
    pub lease_ms: u64,
    pub now_ms: i64,
    /// A job already claimed this many times without a result is given up …
    pub max_attempts: u32,
    /// … and this flag raised for it.
    pub give_up: fn(&Job) -> Flag,
}

/// The server's verdict on a job.
#[derive(Debug, Clone)]
pub struct JobResult {
    pub id: i64,
    pub session: String,
    pub seq: u64,
    /// `None` when the job could not be graded (pack missing, grader crashed): kept with
    /// `error` and not retried past the attempt limit.
    pub verdict: Option<Verdict>,
    pub score: u32,
    pub error: Option<String>,
    pub graded_at: String,
    /// What the re-grade raises (a disagreement with the device, an ungradable job).
    pub flag: Option<Flag>,
}

/// One submission as the results show it.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionRow {
    pub session: String,
    pub seq: u64,
    pub candidate: String,
    pub candidate_name: String,
    pub problem: String,
    pub submitted_ms: u64,
    pub device_verdict: Verdict,
    pub device_score: u32,
    pub max_score: u32,
    pub server_verdict: Option<Verdict>,
    pub server_score: Option<u32>,
    /// Why the server could not re-grade it, if it could not.
    pub server_error: Option<String>,
}

/// A session as the dashboard lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub session: String,
    pub device: String,
    pub candidate: String,
    pub candidate_name: String,
    /// Where its records first came from: the uploading venue token's label, or the
    /// bundle's venue.
    pub venue: String,
    /// The highest contiguous seq held.
    pub held_seq: u64,
    pub created_at: String,
    /// When a record of it last arrived.
    pub last_record_at: String,
    /// The largest exam time its records show.
    pub elapsed_ms: u64,
    /// Exam time added by proven proctor extensions.
    pub extended_ms: u64,
    /// The device's clock at its first and newest record (informative only).
    pub first_wall: Option<String>,
    pub last_wall: Option<String>,
    /// How it ended, if it has.
    pub ended: Option<String>,
    /// How it was admitted: `code`, `proctor`, `unadmitted` or `no_roster` (`None` until its
    /// first record arrives).
    pub admitted: Option<String>,
}

/// An organizer's decision on a withheld session: count it after all, or keep it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDecision {
    pub exam: String,
    pub session: String,
    /// `true`: its submissions count despite its flags; `false`: it counts nothing.
    pub count: bool,
    /// Why, in the organizer's words.
    pub note: String,
    /// The label of the organizer token that decided.
    pub by: String,
    pub decided_at: String,
}

/// Something an organizer should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub exam: String,
    pub session: String,
    pub seq: u64,
    /// `fork`, `rollback`, `wrong_pack`, `proctor_unproven`, `disagreement`, `ungradable`,
    /// `log_contradiction`.
    pub kind: String,
    pub detail: String,
}

/// Records held back in a session until the missing ones before them arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub session: String,
    /// The first and last missing seq.
    pub from: u64,
    pub to: u64,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub records: u64,
    pub sessions: u64,
    pub jobs_queued: u64,
    pub jobs_done: u64,
    pub flags: u64,
}

/// An exam as the server lists it: its newest pack.
#[derive(Debug, Clone, Serialize)]
pub struct ExamRow {
    pub exam: String,
    pub version: String,
    pub pack_hash: String,
}

/// A leaf of the record log with the record the tables hold for it, as an audit reads it.
#[derive(Debug, Clone)]
pub struct LeafRecord {
    pub leaf: u64,
    pub session: String,
    pub seq: u64,
    /// `None` when the log still names the record (PostgreSQL's leaf table) but the records
    /// table lost it.
    pub bytes: Option<Vec<u8>>,
}

/// A session's row as an audit holds it against its records.
#[derive(Debug, Clone)]
pub struct AuditSession {
    pub facts: SessionFacts,
    pub held_seq: u64,
    pub head: String,
}

/// A record of a session's chain, as stored.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub seq: u64,
    pub hash: String,
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
}
