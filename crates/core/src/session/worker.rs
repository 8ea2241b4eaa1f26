//! The grading worker: one thread that runs sample jobs and claims queued submissions one
//! at a time under a lease, grades them without holding a lock, and records each verdict
//! in the transaction that marks its submission done.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::store::Claim;
use super::{EngineEvent, Inner, SessionError, lock};
use crate::grade::{Grading, Scope, grade};
use crate::problem::Problem;
use crate::record::{DatasetVerdict, Event};

/// A run on the sample datasets, waiting for the worker (no record).
pub(super) struct SampleJob {
    pub(super) session: String,
    pub(super) problem: String,
    pub(super) sql: String,
    pub(super) run: u64,
}

impl Inner {
    /// The worker: one job at a time, forever.
    pub(super) fn work(&self) {
        while !self.shutdown.load(Ordering::SeqCst) {
            self.tick();
            let sample = lock(&self.samples).pop_front();
            if let Some(job) = sample {
                self.in_flight.fetch_add(1, Ordering::SeqCst);
                self.run_sample(job);
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let claimed = self.claim_and_grade();
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if claimed {
                continue;
            }
            let guard = lock(&self.samples);
            if guard.is_empty() && !self.shutdown.load(Ordering::SeqCst) {
                let _ = self.wake.wait_timeout(guard, Duration::from_millis(500));
            }
        }
    }

    pub(super) fn run_sample(&self, job: SampleJob) {
        let Ok(pack) = self.pack_problem(&job.session, &job.problem) else {
            return;
        };
        if let Some(problem) = pack.problems.iter().find(|p| p.id == job.problem) {
            let grading = grade(problem, &job.sql, Scope::Samples).for_candidate();
            self.emit(EngineEvent::SampleRun {
                session: job.session,
                run: job.run,
                grading: Box::new(grading),
            });
        }
    }

    /// Claims one submission, grades it and records the verdict. `false` if none waited.
    pub(super) fn claim_and_grade(&self) -> bool {
        let now = self.clock.wall_ms();
        // Claimed with a generous lease at once; then, knowing the problem, extended to
        // twice the grader's worst case. The lease must outlast the grader's own limit, or a
        // slow grading is graded twice.
        let claim = {
            let mut store = lock(&self.store);
            match store.claim(&self.owner, now, now.saturating_add(CLAIM_LEASE_MS as i64)) {
                Ok(Some(c)) => c,
                _ => return false,
            }
        };
        let problem = self
            .pack_problem(&claim.session, &claim.problem)
            .ok()
            .and_then(|pack| {
                pack.problems
                    .iter()
                    .find(|p| p.id == claim.problem)
                    .cloned()
            });
        let Some(problem) = problem else {
            // Never leave a claim that can never be graded at the head of the queue.
            self.refuse_claim(&claim, "grading_failed");
            return true;
        };
        let lease = lease_ms(&problem).max(CLAIM_LEASE_MS);
        let _ = lock(&self.store).extend_lease(
            claim.submission,
            &self.owner,
            now.saturating_add(i64::try_from(lease).unwrap_or(i64::MAX)),
        );
        let graded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            grade(&problem, &claim.sql, Scope::All).for_candidate()
        }));
        let Ok(grading) = graded else {
            self.refuse_claim(&claim, "grading_failed");
            return true;
        };
        if let Ok(true) = self.complete(&claim, &grading) {
            self.emit(EngineEvent::Graded {
                session: claim.session.clone(),
                submission: claim.submission,
                grading: Box::new(grading),
            });
        }
        true
    }

    /// Ends a claim that cannot be graded with a recorded refusal (so it is not lost and
    /// does not block the queue).
    pub(super) fn refuse_claim(&self, claim: &Claim, reason: &str) {
        // Nothing is written unless the claim is still ours (an `Err` rolls back).
        let _ = self.write(|tx| {
            let event = Event::SubmissionRefused {
                submission_id: claim.submission,
                problem: claim.problem.clone(),
                sql: claim.sql.clone(),
                reason: reason.into(),
            };
            let seq = self.append(tx, &claim.session, claim.elapsed_ms, event)?;
            if tx.mark_claim_done(claim, &self.owner, seq)? {
                Ok(())
            } else {
                Err(SessionError::store_says("the claim was lost"))
            }
        });
    }

    /// Writes the record and marks the submission done, in one transaction, only if the
    /// claim is still ours. `Ok(false)`: someone else holds it now; nothing written.
    pub(super) fn complete(&self, claim: &Claim, grading: &Grading) -> Result<bool, SessionError> {
        self.write(|tx| {
            if !tx.still_claimed(claim, &self.owner)? {
                return Ok(false);
            }
            let event = Event::Submission {
                submission_id: claim.submission,
                submitted_elapsed_ms: claim.elapsed_ms,
                problem: claim.problem.clone(),
                sql: claim.sql.clone(),
                verdict: grading.verdict,
                score: grading.score,
                max_score: grading.max_score,
                groups: grading.groups.clone(),
                datasets: grading
                    .datasets
                    .iter()
                    .map(|d| DatasetVerdict {
                        name: d.name.clone(),
                        verdict: d.verdict,
                    })
                    .collect(),
                grader_version: grading.grader_version.clone(),
                sqlite_version: grading.sqlite_version.clone(),
                grading_ms: grading.datasets.iter().filter_map(|d| d.wall_ms).sum(),
            };
            let seq = self.append(tx, &claim.session, claim.elapsed_ms, event)?;
            tx.mark_done(claim.submission, seq)?;
            Ok(true)
        })
    }
}

/// A claim's lease: twice the longest the grader can take on this problem (every dataset
/// at its wall-clock backstop), plus a margin.
fn lease_ms(problem: &Problem) -> u64 {
    (problem.datasets.len() as u64)
        .saturating_mul(problem.limits.wall_ms)
        .saturating_mul(2)
        .saturating_add(30_000)
}

/// The lease a claim gets before its problem is known.
const CLAIM_LEASE_MS: u64 = 10 * 60_000;
