//! Storage behind one trait. Each backend keeps its own schema and migrations; what to do
//! with a batch is decided once, in [`crate::ingest::plan`] and [`effects`], and a backend
//! only loads what it holds and writes the decision in one transaction.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::grade::Verdict;
use sqlexam_core::log::Hash;
use sqlexam_core::record::{Event, Record, proctor_statement};

use crate::ingest::{Incoming, Plan, SessionFacts};

/// A storage failure; `retryable` when the database was only busy.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
    pub retryable: bool,
}

impl sqlexam_core::ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        if self.retryable { "busy" } else { "storage" }
    }

    fn retryable(&self) -> bool {
        self.retryable
    }
}

impl StoreError {
    pub fn fatal(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            retryable: false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Who a bearer token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// A grading job: one submission record, claimed by one worker at a time.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub session: String,
    pub seq: u64,
    pub pack_hash: String,
    pub problem: String,
    pub sql: String,
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
}

/// One submission as the results show it.
#[derive(Debug, Clone, serde::Serialize)]
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
#[derive(Debug, Clone, serde::Serialize)]
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
}

/// Something an organizer should look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub exam: String,
    pub session: String,
    pub seq: u64,
    /// `fork`, `rollback`, `wrong_pack`, `proctor_unproven`, `disagreement`, `ungradable`,
    /// `log_contradiction`.
    pub kind: String,
    pub detail: String,
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

#[async_trait]
pub trait Store: Send + Sync {
    /// The facts fixed by a session's first record, if the session is known.
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>>;

    /// In one transaction, serialized per session: creates the session if new, plans
    /// `incoming` (already checked against `facts`) against what is held, stores the plan
    /// and its [`effects`] (submissions, grading jobs, flags), and returns the plan. The
    /// records it takes into the chain are in the log after [`Store::sequence`].
    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
    ) -> StoreResult<Plan>;

    /// Highest contiguous seq and the seqs held back; `None` if unknown.
    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>>;

    /// Gives every record stored in a chain its leaf in the record log. A batch's records
    /// are in the log once this returns after `apply` (SQLite appends in `apply` itself;
    /// PostgreSQL appends here, under the log head's lock, for every process's records
    /// stored since the last call — one log transaction for many batches). Also run when
    /// a store opens, for records a crash left unsequenced.
    /// Returns the log head after it.
    async fn sequence(&self) -> StoreResult<(u64, Hash)>;

    /// The record log's size and root ([`crate::log`]).
    async fn log_head(&self) -> StoreResult<(u64, Hash)>;
    /// The log's stored hashes at `indexes` (sorted, each below the head's).
    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>>;
    /// `(seq, leaf)` of the records of `session` with seq in `from..=to`, by seq.
    async fn leaves(&self, session: &str, from: u64, to: u64) -> StoreResult<Vec<(u64, u64)>>;

    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()>;
    /// The role and label of the token whose hash is `hash`.
    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>>;

    /// Stores a pack as its exam's pack. A different pack of the same exam and version is
    /// refused (`Err(Some(hash held))`); the same pack again changes nothing.
    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>>;
    /// Queues again the submissions of sessions on pack `hash` that could not be graded
    /// because the server did not hold it yet, and withdraws their `ungradable` flags.
    /// Returns how many.
    async fn requeue_waiting(&self, hash: &str) -> StoreResult<u64>;
    /// The exam's newest pack.
    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>>;
    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>>;
    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Every exam id with its newest pack's version and hash.
    async fn exams(&self) -> StoreResult<Vec<(String, String, String)>>;

    /// In one transaction: stores `done` (a verdict beside the device's, a disagreement
    /// flagged, its job ended), then claims the oldest queued job — or one whose lease ran
    /// out — for `lease_ms`. A job claimed and lost too often is flagged `ungradable`.
    async fn next_job(
        &self,
        done: Option<&JobResult>,
        worker: &str,
        lease_ms: u64,
        now_ms: i64,
    ) -> StoreResult<Option<Job>>;
    /// Stores a verdict without claiming another job (a worker stopping).
    async fn finish_job(&self, done: &JobResult) -> StoreResult<()>;
    /// Puts a claimed job back in the queue at once (its grader failed).
    async fn release_job(&self, id: i64) -> StoreResult<()>;

    /// Every session of `exam`, by candidate.
    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>>;

    /// Raises flags found outside a batch (a bundle whose receipts contradict the log).
    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()>;

    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>>;
    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>>;
    /// Sessions of `exam` holding records back: (session, first missing, last missing).
    async fn gaps(&self, exam: &str) -> StoreResult<Vec<(String, u64, u64)>>;
    async fn counts(&self) -> StoreResult<Counts>;
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

/// What appending records means beyond the chain: submissions to grade and flags to raise.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub submissions: Vec<NewSubmission>,
    pub flags: Vec<Flag>,
}

/// Derives the effects of a plan for a session (shared by every backend).
pub fn effects(facts: &SessionFacts, plan: &Plan, checks: &Checks, new_session: bool) -> Effects {
    let mut out = Effects::default();
    let flag = |seq: u64, kind: &str, detail: String| Flag {
        exam: facts.exam.clone(),
        session: facts.session.clone(),
        seq,
        kind: kind.into(),
        detail,
    };
    if new_session
        && let Some(exam_hash) = &checks.exam_pack_hash
        && *exam_hash != facts.pack_hash
    {
        out.flags.push(flag(
            1,
            "wrong_pack",
            format!(
                "the session ran on pack {} but the exam's pack is {exam_hash}",
                facts.pack_hash
            ),
        ));
    }
    for (kind, r) in &plan.forks {
        out.flags.push(flag(
            r.seq,
            kind.code(),
            match kind {
                crate::ingest::ForkKind::Rollback => format!(
                    "another record at seq {} after the server had receipted it: the device's chain went backwards",
                    r.seq
                ),
                crate::ingest::ForkKind::Fork => format!(
                    "a record at seq {} that does not follow the one the server holds before it",
                    r.seq
                ),
            },
        ));
    }
    for r in &plan.append {
        let Ok(record) = serde_json::from_slice::<Record>(&r.bytes) else {
            continue;
        };
        match &record.event {
            Event::Submission {
                problem,
                sql,
                verdict,
                score,
                max_score,
                submitted_elapsed_ms,
                ..
            } => out.submissions.push(NewSubmission {
                seq: record.seq,
                problem: problem.clone(),
                sql: sql.clone(),
                submitted_ms: *submitted_elapsed_ms,
                verdict: *verdict,
                score: *score,
                max_score: *max_score,
            }),
            Event::Proctor { action, proof } => {
                let why = match (proof, &checks.proctor_key) {
                    (None, _) => Some("it carries no proctor signature"),
                    (Some(_), None) => Some("the server does not hold the session's pack"),
                    (Some(_), Some(None)) => Some("the pack allows no proctor actions"),
                    (Some(p), Some(Some(key))) => {
                        let statement =
                            proctor_statement(&record.session, record.seq, &record.prev, action);
                        let signed = sqlexam_core::encoding::unhex(&p.signature).is_some_and(|s| {
                            key.verify(sqlexam_core::pack::PROCTOR_DOMAIN, statement.as_bytes(), &s)
                        });
                        if p.statement != statement {
                            Some("its proctor signature is for another action or place")
                        } else if !signed {
                            Some("its proctor signature does not verify")
                        } else {
                            None
                        }
                    }
                };
                if let Some(why) = why {
                    out.flags.push(flag(
                        record.seq,
                        "proctor_unproven",
                        format!("a proctor action that is not proven: {why}"),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// A verdict as stored: its snake_case code (`accepted`, `wrong_answer`, …).
pub(crate) fn verdict_text(v: Verdict) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn parse_verdict(text: &str) -> Option<Verdict> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// The flag a stored re-grade raises, if any: `disagreement` when the server's verdict or
/// score differs from the device's, `ungradable` when the grader reported an error.
pub(crate) fn regrade_flag(
    exam: String,
    result: &JobResult,
    device_verdict: &str,
    device_score: u32,
) -> Option<Flag> {
    let (kind, detail) = match (result.verdict, &result.error) {
        (Some(v), _) if verdict_text(v) != device_verdict || result.score != device_score => (
            "disagreement",
            format!(
                "the device recorded {device_verdict} ({device_score} points); the server's re-grade gives {} ({} points)",
                verdict_text(v),
                result.score
            ),
        ),
        (None, Some(e)) => (
            "ungradable",
            format!("the server could not re-grade it: {e}"),
        ),
        _ => return None,
    };
    Some(Flag {
        exam,
        session: result.session.clone(),
        seq: result.seq,
        kind: kind.into(),
        detail,
    })
}

/// After this many claims without a result a job is given up and flagged `ungradable`.
pub const MAX_ATTEMPTS: u32 = 3;

/// The flag of a job given up after [`MAX_ATTEMPTS`] claims.
pub(crate) fn gave_up(exam: String, session: String, seq: u64) -> Flag {
    Flag {
        exam,
        session,
        seq,
        kind: "ungradable".into(),
        detail: format!("the server's grader gave no verdict in {MAX_ATTEMPTS} attempts"),
    }
}
