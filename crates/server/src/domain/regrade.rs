//! Re-grade decisions: how long a claim holds, when a job is given up, and what the
//! server's verdict means beside the device's. The rules of the cloud system this descends
//! from: a claim's lease outlasts the grader's whole allowance, and a grading run takes
//! exactly one submission (`crate::grader` runs them).

use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::MAX_WALL_MS;

use crate::model::{Claim, Flag, Job, JobResult};
use crate::store::verdict_text;

/// How long a child may take for one job before it is killed: the largest per-submission
/// wall-clock allowance a problem may set, plus time to start and open a sealed pack.
pub const CHILD_TIMEOUT_MS: u64 = MAX_WALL_MS + 60_000;
/// A claim's lease. It outlasts a child's whole allowance twice over, so a job is only
/// claimed again when its worker is gone (a killed server process), never while it grades.
pub const LEASE_MS: u64 = 2 * CHILD_TIMEOUT_MS;
const _: () = assert!(LEASE_MS > CHILD_TIMEOUT_MS && CHILD_TIMEOUT_MS > MAX_WALL_MS);

/// After this many claims without a result a job is given up and flagged `ungradable`.
pub const MAX_ATTEMPTS: u32 = 3;

/// How a re-grade that waits for its pack begins (`server_error`): such submissions are
/// queued again when the pack is uploaded.
pub const WAITING_FOR_PACK: &str = "the server does not hold pack";

/// How worker `worker` claims its next job at `now_ms`.
pub fn claim(worker: &str, now_ms: i64) -> Claim {
    Claim {
        worker: worker.to_owned(),
        lease_ms: LEASE_MS,
        now_ms,
        max_attempts: MAX_ATTEMPTS,
        give_up: gave_up,
    }
}

/// The flag of a job given up after [`MAX_ATTEMPTS`] claims.
fn gave_up(job: &Job) -> Flag {
    Flag {
        exam: job.exam.clone(),
        session: job.session.clone(),
        seq: job.seq,
        kind: "ungradable".into(),
        detail: format!("the server's grader gave no verdict in {MAX_ATTEMPTS} attempts"),
    }
}

/// The server's result for `job`, with the flag it raises: `disagreement` when the
/// server's verdict or score differs from the device's, `ungradable` when the grader
/// reported an error.
pub fn result(
    job: &Job,
    verdict: Option<Verdict>,
    score: u32,
    error: Option<String>,
    graded_at: String,
) -> JobResult {
    let flag = match (verdict, &error) {
        (Some(v), _) if v != job.device_verdict || score != job.device_score => Some((
            "disagreement",
            format!(
                "the device recorded {} ({} points); the server's re-grade gives {} ({score} points)",
                verdict_text(job.device_verdict),
                job.device_score,
                verdict_text(v),
            ),
        )),
        (None, Some(e)) => Some((
            "ungradable",
            format!("the server could not re-grade it: {e}"),
        )),
        _ => None,
    };
    JobResult {
        id: job.id,
        session: job.session.clone(),
        seq: job.seq,
        verdict,
        score,
        error,
        graded_at,
        flag: flag.map(|(kind, detail)| Flag {
            exam: job.exam.clone(),
            session: job.session.clone(),
            seq: job.seq,
            kind: kind.into(),
            detail,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            id: 1,
            exam: "e".into(),
            session: "s".into(),
            seq: 4,
            pack_hash: "h".into(),
            problem: "p".into(),
            sql: "SELECT 1".into(),
            device_verdict: Verdict::Accepted,
            device_score: 100,
        }
    }

    #[test]
    fn a_regrade_that_agrees_raises_nothing_and_one_that_differs_is_a_disagreement() {
        let same = result(&job(), Some(Verdict::Accepted), 100, None, "t".into());
        assert_eq!(same.flag, None);
        let lower = result(&job(), Some(Verdict::Accepted), 60, None, "t".into());
        assert_eq!(lower.flag.map(|f| f.kind), Some("disagreement".into()));
        let failed = result(&job(), None, 0, Some("boom".into()), "t".into());
        let flag = failed.flag.unwrap();
        assert_eq!(flag.kind, "ungradable");
        assert!(flag.detail.ends_with("boom"), "{}", flag.detail);
    }
}
