//! Results in the shapes programming-contest tools read (the CLICS Contest API's
//! `scoreboard.json`, 2023-06, for a contest with `scoreboard_type: "score"`, and the
//! `results.tsv` of the CCS standard as DOMjudge writes it). A candidate is a team; the exam
//! is the contest; exam time is contest time.
//!
//! Ranking: by total score, higher first; a tie goes to whoever reached their total earlier
//! (the latest of their problems' `best_at`); equal on both, equal rank.

use serde::Serialize;

use crate::results::{CandidateResult, Results};

#[derive(Debug, Serialize)]
pub struct Scoreboard {
    /// When the scoreboard was made (ISO 8601).
    pub time: String,
    /// Contest time: the most exam time any candidate used (RELTIME).
    pub contest_time: String,
    pub state: State,
    pub rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
pub struct State {
    pub started: Option<String>,
    pub ended: Option<String>,
    pub frozen: Option<String>,
    pub thawed: Option<String>,
    pub finalized: Option<String>,
    pub end_of_updates: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub rank: u32,
    pub team_id: String,
    pub score: Score,
    pub problems: Vec<ProblemCell>,
}

#[derive(Debug, Serialize)]
pub struct Score {
    pub score: u32,
    /// Minutes of exam time at the last improvement; absent at score 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ProblemCell {
    pub problem_id: String,
    pub num_judged: u32,
    pub num_pending: u32,
    pub score: u32,
    /// Minutes of exam time when `score` was first reached; only when `score > 0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

/// Exam time as CLICS RELTIME (`h:mm:ss.uuu`).
fn reltime(ms: u64) -> String {
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The exam time (ms) at which a candidate reached their total: their problems' latest
/// `best_at` among those with points; `None` at 0 points.
fn reached_at(c: &CandidateResult) -> Option<u64> {
    c.problems
        .iter()
        .filter(|p| p.score > 0)
        .filter_map(|p| p.best_at_ms)
        .max()
}

/// Candidates by rank, with their rank: only those with a session that counts (a
/// candidate whose every session is withheld ranks nowhere until an organizer decides).
fn ranked(results: &Results) -> Vec<(u32, &CandidateResult)> {
    let mut order: Vec<&CandidateResult> =
        results.candidates.iter().filter(|c| c.counted).collect();
    let key = |c: &CandidateResult| (std::cmp::Reverse(c.total), reached_at(c).unwrap_or(0));
    order.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.candidate.cmp(&b.candidate))
    });
    let mut out: Vec<(u32, &CandidateResult)> = Vec::with_capacity(order.len());
    for (i, c) in order.into_iter().enumerate() {
        let rank = match out.last() {
            Some((rank, prev)) if key(prev) == key(c) => *rank,
            _ => i as u32 + 1,
        };
        out.push((rank, c));
    }
    out
}

/// `scoreboard.json`.
pub fn scoreboard(results: &Results) -> Scoreboard {
    let minutes = |ms: u64| ms / 60_000;
    let rows = ranked(results)
        .into_iter()
        .map(|(rank, c)| Row {
            rank,
            team_id: c.candidate.clone(),
            score: Score {
                score: c.total,
                time: reached_at(c).filter(|_| c.total > 0).map(minutes),
            },
            problems: c
                .problems
                .iter()
                .map(|p| {
                    let pending = p.awaiting_regrade;
                    ProblemCell {
                        problem_id: p.problem.clone(),
                        num_judged: p.attempts - pending,
                        num_pending: pending,
                        score: p.score,
                        time: p.best_at_ms.filter(|_| p.score > 0).map(minutes),
                    }
                })
                .collect(),
        })
        .collect();
    let first = results
        .candidates
        .iter()
        .filter_map(|c| c.first_wall_time.clone())
        .min();
    let all_ended =
        !results.candidates.is_empty() && results.candidates.iter().all(|c| c.ended.is_some());
    let last = results
        .candidates
        .iter()
        .filter_map(|c| c.last_wall_time.clone())
        .max();
    Scoreboard {
        time: results.generated_at.clone(),
        contest_time: reltime(
            results
                .candidates
                .iter()
                .map(|c| c.elapsed_ms)
                .max()
                .unwrap_or(0),
        ),
        state: State {
            started: first,
            ended: last.filter(|_| all_ended),
            frozen: None,
            thawed: None,
            finalized: None,
            end_of_updates: None,
        },
        rows,
    }
}

/// `results.tsv` (`results\t1`, then team id, rank, award, points, the minute the total was
/// reached, the minute of the latest best submission of any problem — the model keeps no
/// other submission time — and an empty group winner; points in the solved column, as
/// DOMjudge writes score contests).
pub fn results_tsv(results: &Results) -> String {
    let field = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let mut out = String::from("results\t1\n");
    for (rank, c) in ranked(results) {
        let last = c
            .problems
            .iter()
            .filter_map(|p| p.best_at_ms)
            .max()
            .unwrap_or(0);
        out.push_str(&format!(
            "{}\t{rank}\tRanked\t{}\t{}\t{}\t\n",
            field(&c.candidate),
            c.total,
            reached_at(c).unwrap_or(0) / 60_000,
            last / 60_000,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reltime_is_hours_minutes_seconds_millis() {
        assert_eq!(reltime(0), "0:00:00.000");
        assert_eq!(reltime(3_723_004), "1:02:03.004");
    }
}
