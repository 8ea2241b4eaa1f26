//! What the engine shows: sessions, problems and submissions as the UI lists them, the
//! events it sends subscribers, records as the proctor reads them, and the outbox.

use serde::Serialize;

use super::Inner;
use super::store::Submissions;
use super::{SessionError, lock};
use crate::grade::{Grading, Verdict};
use crate::problem::WhileClosed;
use crate::record::{Event, Finding, PackRef, Record, SignedRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Running,
    /// The app closed or crashed under the "paused" policy: a proctor must resume.
    Interrupted,
    Ended,
}

/// A session as the UI shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub pack: PackRef,
    pub title: crate::problem::Localized,
    pub candidate_id: String,
    pub candidate_name: String,
    pub state: SessionState,
    pub elapsed_ms: u64,
    pub duration_ms: u64,
    pub remaining_ms: u64,
    pub score: u32,
    pub max_score: u32,
    pub problems: Vec<ProblemStatus>,
    /// Records not yet acknowledged by a server.
    pub unsynced: usize,
    /// What the exam clock does while the app is closed (the close dialog says it).
    pub while_closed: WhileClosed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemStatus {
    pub id: String,
    pub title: crate::problem::Localized,
    pub points: u32,
    pub best_score: u32,
    pub submissions: usize,
    /// The verdict of the best submission, if any was graded.
    pub best_verdict: Option<Verdict>,
}

/// A submission and, once graded, its verdict (from its record).
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    pub id: u64,
    pub session: String,
    pub problem: String,
    pub sql: String,
    pub elapsed_ms: u64,
    /// "queued", "grading" or "done".
    pub state: String,
    pub verdict: Option<Verdict>,
    pub score: Option<u32>,
    /// Why a submission was not graded (`session_ended`, `interrupted`, `grading_failed`),
    /// from its `submission_refused` record.
    pub refused: Option<String>,
}

/// What a submission's record says: verdict and score once graded, the reason once
/// refused (nothing while it waits, or if the record does not parse).
pub(super) fn record_outcome(
    record: Option<&[u8]>,
) -> (Option<Verdict>, Option<u32>, Option<String>) {
    match record
        .and_then(|b| serde_json::from_slice::<Record>(b).ok())
        .map(|r| r.event)
    {
        Some(Event::Submission { verdict, score, .. }) => (Some(verdict), Some(score), None),
        Some(Event::SubmissionRefused { reason, .. }) => (None, None, Some(reason)),
        _ => (None, None, None),
    }
}

/// What the engine tells its subscribers.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A submission was graded and its record written. The grading is the candidate's view.
    Graded {
        session: String,
        submission: u64,
        grading: Box<Grading>,
    },
    /// A run on the sample datasets finished (no record).
    SampleRun {
        session: String,
        run: u64,
        grading: Box<Grading>,
    },
    /// The session ended (time up, finished, or a proctor).
    SessionEnded { session: String, reason: String },
}

/// One record as the proctor's view lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRow {
    pub seq: u64,
    /// The event's kind code (`submission`, `proctor` …).
    pub kind: String,
    /// Language-neutral facts: ids, codes and numbers (the UI translates the codes).
    pub summary: String,
    pub elapsed_ms: u64,
}

/// A session's records and what verifying the store found.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsReport {
    pub records: Vec<RecordRow>,
    /// Each with its `kind` code and facts (docs/record-format.md), for translation.
    pub findings: Vec<Finding>,
    pub device_id: String,
}

/// A record waiting for a server's acknowledgement.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub session: String,
    pub seq: u64,
    pub record: SignedRecord,
}

impl Inner {
    /// A session as the UI shows it, with its exam time as of now.
    pub(super) fn view(&self, session: &str) -> Result<SessionView, SessionError> {
        let pack = self.pack_of(session)?;
        let (state, duration, stored) = self.session_row(session)?;
        let (candidate_id, candidate_name) = lock(&self.store).candidate(session)?;
        let elapsed = self.elapsed(session, stored).min(duration);
        let subs = lock(&self.store).submissions(Submissions::OfSession(session))?;
        let problems: Vec<ProblemStatus> = pack
            .problems
            .iter()
            .map(|p| {
                let mine: Vec<&SubmissionView> =
                    subs.iter().filter(|s| s.problem == p.id).collect();
                let best = mine
                    .iter()
                    .filter(|s| s.verdict.is_some())
                    .max_by_key(|s| s.score.unwrap_or(0));
                ProblemStatus {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    points: p.points,
                    best_score: best.and_then(|s| s.score).unwrap_or(0),
                    submissions: mine.len(),
                    best_verdict: best.and_then(|s| s.verdict),
                }
            })
            .collect();
        let unsynced = lock(&self.store).unsynced(session)?;
        Ok(SessionView {
            id: session.into(),
            pack: pack.pack_ref(),
            title: pack.info.title.clone(),
            candidate_id,
            candidate_name,
            state,
            elapsed_ms: elapsed,
            duration_ms: duration,
            remaining_ms: duration.saturating_sub(elapsed),
            score: problems.iter().map(|p| p.best_score).sum(),
            max_score: problems.iter().map(|p| p.points).sum(),
            problems,
            unsynced,
            while_closed: pack.exam.rules.while_closed,
        })
    }
}
