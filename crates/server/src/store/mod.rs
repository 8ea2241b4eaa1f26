//! Storage behind one trait, [`Store`], made of one trait per job: session chains, the
//! record log, packs and tokens, re-grade jobs, and the reads results are built from. Each
//! backend is a module of its own that owns its schema and migrations and is split the same
//! way. Storage never decides: what to write for a batch comes from the domain as a
//! [`Decide`] function, called inside the transaction that loaded what it decides on.

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use sqlexam_core::grade::Verdict;
use sqlexam_core::tlog::Hash;

use crate::model::{
    AuditSession, Checks, Claim, Counts, Decide, Decision, ExamRow, Flag, Gap, Incoming, Job,
    JobResult, LeafRecord, PackFacts, Role, RosterRow, SessionDecision, SessionFacts, SessionRow,
    StoredPack, StoredRecord, SubmissionRow, TokenRow,
};
use sqlexam_export::results::Incident;

type Source = Box<dyn std::error::Error + Send + Sync>;

/// A storage failure: what was being done, and the database's own error as its source.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct StoreError {
    context: String,
    /// When the database was only busy (or the connection dropped): the same call may
    /// succeed later.
    pub retryable: bool,
    #[source]
    source: Option<Source>,
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
    /// A failure that retrying does not mend (a damaged or newer database).
    pub fn fatal(context: impl Into<String>) -> Self {
        StoreError {
            context: context.into(),
            retryable: false,
            source: None,
        }
    }

    /// A failure the same call may not meet again (a busy database, a race lost).
    pub fn busy(context: impl Into<String>) -> Self {
        StoreError {
            retryable: true,
            ..Self::fatal(context)
        }
    }

    pub fn caused_by(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Sessions and their chains of records.
#[async_trait]
pub trait Chains: Send + Sync {
    /// The facts fixed by a session's first record, if the session is known.
    async fn session_facts(&self, session: &str) -> StoreResult<Option<SessionFacts>>;

    /// In one transaction, serialized per session: creates the session if new, loads what
    /// it holds, asks `decide` what to do with `incoming` (already checked against
    /// `facts`), writes the decision (chain, evidence, held-back records, submissions,
    /// grading jobs, flags) and returns it. The records it takes into the chain are in the
    /// log after [`Tlog::sequence`].
    async fn apply(
        &self,
        facts: &SessionFacts,
        incoming: Vec<Incoming>,
        checks: &Checks,
        now: &str,
        decide: Decide,
    ) -> StoreResult<Decision>;

    /// Highest contiguous seq and the seqs held back; `None` if unknown.
    async fn held(&self, session: &str) -> StoreResult<Option<(u64, Vec<u64>)>>;
}

/// The append-only record log (RFC 6962), stored as Go's `sumdb/tlog` stores it.
#[async_trait]
pub trait Tlog: Send + Sync {
    /// Gives every record stored in a chain its leaf in the record log. A batch's records
    /// are in the log once this returns after `apply` (SQLite appends in `apply` itself;
    /// PostgreSQL appends here, under the log head's lock, for every process's records
    /// stored since the last call — one log transaction for many batches). Also run when
    /// a store opens, for records a crash left unsequenced.
    /// Returns the log head after it.
    async fn sequence(&self) -> StoreResult<(u64, Hash)>;
    /// The record log's size and root.
    async fn log_head(&self) -> StoreResult<(u64, Hash)>;
    /// The log's stored hashes at `indexes` (sorted, each below the head's).
    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>>;
    /// `(seq, leaf)` of the records of `session` with seq in `from..=to`, by seq.
    async fn leaves(&self, session: &str, from: u64, to: u64) -> StoreResult<Vec<(u64, u64)>>;
    /// Keeps `witness`'s (key id) cosignature `line` of the checkpoint of `size` records.
    async fn add_cosignature(&self, size: u64, witness: &str, line: &str) -> StoreResult<()>;
    /// The cosignature lines held for the checkpoint of `size` records.
    async fn cosignatures(&self, size: u64) -> StoreResult<Vec<String>>;
    /// The largest checkpoint size any witness cosigned.
    async fn newest_cosigned(&self) -> StoreResult<Option<u64>>;
}

/// Exams' packs and the bearer tokens that may use them.
#[async_trait]
pub trait Packs: Send + Sync {
    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()>;
    /// The role and label of the token whose hash is `hash`, unless it was revoked.
    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>>;
    /// Every token, oldest first.
    async fn tokens(&self) -> StoreResult<Vec<TokenRow>>;
    /// Revokes the tokens whose hash starts with `id` (at least 8 hex digits); returns
    /// them. The caller refuses an `id` that names more than one token, first.
    async fn revoke_tokens(&self, id: &str, now: &str) -> StoreResult<Vec<TokenRow>>;

    /// Stores a pack as its exam's pack. A different pack of the same exam and version is
    /// refused (`Err(hash held)`); the same pack again changes nothing but a corrected
    /// start code.
    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>>;
    /// The exam's newest pack.
    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>>;
    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>>;
    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>>;
    /// `candidate`'s entry on the roster of pack `hash`, if listed.
    async fn roster_entry(&self, hash: &str, candidate: &str) -> StoreResult<Option<RosterRow>>;
    /// Every exam with its newest pack.
    async fn exams(&self) -> StoreResult<Vec<ExamRow>>;
}

/// The re-grade queue: one job per stored submission.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// In one transaction: stores `done` (the server's verdict beside the device's, its
    /// flag, its job ended), then claims the oldest queued job — or one whose lease ran
    /// out — as `claim` says. A job claimed and lost `claim.max_attempts` times is ended
    /// with `claim.give_up`'s flag instead.
    async fn next_job(&self, done: Option<&JobResult>, claim: &Claim) -> StoreResult<Option<Job>>;
    /// Stores a verdict without claiming another job (a worker stopping).
    async fn finish_job(&self, done: &JobResult) -> StoreResult<()>;
    /// Puts a claimed job back in the queue at once (its grader failed).
    async fn release_job(&self, id: i64) -> StoreResult<()>;
    /// Queues again the submissions of sessions on pack `hash` whose re-grade ended with
    /// an error starting `waiting` (the pack was not held yet), and withdraws the
    /// `ungradable` flags that say so. Returns how many.
    async fn requeue_waiting(&self, hash: &str, waiting: &str) -> StoreResult<u64>;
}

/// What results, flags and the dashboard are built from.
#[async_trait]
pub trait Reads: Send + Sync {
    /// Every session of `exam`, by candidate.
    async fn sessions(&self, exam: &str) -> StoreResult<Vec<SessionRow>>;
    async fn submissions(&self, exam: &str) -> StoreResult<Vec<SubmissionRow>>;
    async fn flags(&self, exam: &str) -> StoreResult<Vec<Flag>>;
    /// Raises flags found outside a batch (a bundle whose receipts contradict the log).
    async fn add_flags(&self, flags: Vec<Flag>, now: &str) -> StoreResult<()>;
    /// The incidents (refusals, proctor actions, interruptions) of `exam`'s sessions.
    async fn incidents(&self, exam: &str) -> StoreResult<Vec<Incident>>;
    /// Keeps an organizer's decision on a session (every one is kept; the newest holds).
    async fn add_decision(&self, decision: &SessionDecision) -> StoreResult<()>;
    /// `exam`'s decisions, oldest first.
    async fn decisions(&self, exam: &str) -> StoreResult<Vec<SessionDecision>>;
    /// Sessions of `exam` holding records back.
    async fn gaps(&self, exam: &str) -> StoreResult<Vec<Gap>>;
    async fn counts(&self) -> StoreResult<Counts>;
}

/// What an audit (`sqlexam serve --audit`) reads, a page at a time.
#[async_trait]
pub trait Audit: Send + Sync {
    /// The records at leaves `from..to` of the log, by leaf; a leaf whose record the tables
    /// lost is absent (or, where the log names it, present without bytes).
    async fn leaf_records(&self, from: u64, to: u64) -> StoreResult<Vec<LeafRecord>>;
    /// Records in the chains that have no leaf in the log.
    async fn unsequenced(&self) -> StoreResult<u64>;
    /// Up to `limit` sessions with ids after `after`, by id.
    async fn audit_sessions(&self, after: &str, limit: usize) -> StoreResult<Vec<AuditSession>>;
    /// `session`'s chain as stored, by seq.
    async fn session_records(&self, session: &str) -> StoreResult<Vec<StoredRecord>>;
    /// `session`'s submission rows, by seq.
    async fn session_submissions(&self, session: &str) -> StoreResult<Vec<SubmissionRow>>;
}

/// Everything the server keeps.
pub trait Store: Chains + Tlog + Packs + Jobs + Reads + Audit {}

impl<T: Chains + Tlog + Packs + Jobs + Reads + Audit> Store for T {}

/// A verdict as stored: its snake_case code (`accepted`, `wrong_answer`, …).
pub(crate) fn verdict_text(v: Verdict) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A stored verdict code (`None` for one this sqlexam does not know).
pub(crate) fn parse_verdict(text: &str) -> Option<Verdict> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}
