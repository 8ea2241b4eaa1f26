//! One model of an exam's results, whoever computes it: a device or a bundle (from verified
//! records, where the device's verdict is the only one) or the server (where its re-grade,
//! once done, is the score). The CSV, XLSX, JSON, the dashboard and the session report all
//! read this, so they never disagree. Its JSON is documented in docs/export-format.md.
//!
//! Scoring: a problem's score is the best score of any of the candidate's counted
//! submissions on it; the total is the sum. From records alone (a device, a bundle) the
//! device's verdict is the only one and counts. On a server only what it proved counts: its
//! re-grade's score; a submission it has not re-graded yet, or cannot (a problem not in the
//! pack), counts 0 with the device's claim shown beside it; a withheld session (flagged
//! until an organizer decides) counts nothing. The problem columns and their maximums are
//! then the exam pack's, never a record's.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::Localized;
use sqlexam_core::record::{Event, PackRef, ProctorAction, Record};

/// The `format` of a results document.
pub const FORMAT: &str = "sqlexam-results/1";

/// An exam's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub format: String,
    pub exam: PackRef,
    /// `device` (one machine's records), `bundle` (records from bundles) or `server`.
    pub source: String,
    pub generated_at: String,
    /// The problem columns, in the exam's order where known.
    pub problems: Vec<ProblemColumn>,
    pub candidates: Vec<CandidateResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemColumn {
    pub id: String,
    pub max_score: u32,
    /// The problem's title, where the exam's pack is at hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Localized>,
}

/// A session whose submissions do not count until an organizer decides, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withheld {
    pub session: String,
    /// Stable codes: `unadmitted`, `not_on_roster`, `second_session`, `over_duration`,
    /// `wrong_pack`, `rollback`, `fork`, `proctor_unproven`, `excluded_by_organizer`.
    pub reasons: Vec<String>,
}

/// One candidate's results (over every session they sat for this exam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    pub candidate: String,
    pub name: String,
    pub venues: Vec<String>,
    pub sessions: Vec<String>,
    /// Key ids of the devices the candidate's sessions ran on.
    pub devices: Vec<String>,
    pub total: u32,
    pub max_total: u32,
    /// Whether any of the candidate's sessions counts: `false` when every one is withheld
    /// (the candidate then ranks nowhere).
    #[serde(default = "yes")]
    pub counted: bool,
    /// Sessions that do not count, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<Withheld>,
    /// Problems at their full score.
    pub solved: u32,
    pub attempts: u32,
    /// Exam time used (the most of any session).
    pub elapsed_ms: u64,
    /// The device's clock at the first and the newest record (informative only).
    pub first_wall_time: Option<String>,
    pub last_wall_time: Option<String>,
    /// How the exam ended (`time_up`, `finished`, `proctor`), if it has.
    pub ended: Option<String>,
    /// One per problem column, in the same order.
    pub problems: Vec<ProblemResult>,
    pub incidents: Vec<Incident>,
}

/// One candidate's standing on one problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemResult {
    pub problem: String,
    pub score: u32,
    pub max_score: u32,
    /// The verdict of the submission that reached `score`; `None` if never submitted.
    pub verdict: Option<Verdict>,
    pub attempts: u32,
    /// Exam time of the first submission reaching `score`.
    pub best_at_ms: Option<u64>,
    /// The best score the device claimed (over every submission, counted or not): shown
    /// beside `score` where the server did not prove it.
    #[serde(default)]
    pub claimed: u32,
    /// Submissions the server has not re-graded yet (counted 0 until it has).
    pub awaiting_regrade: u32,
    /// Submissions the server could not re-grade (counted 0).
    pub ungradable: u32,
    /// Submissions where the server's verdict or score differs from the device's.
    pub disagreements: u32,
}

/// Something in a session a proctor or organizer should know of. `kind` is a stable code
/// (`interrupted`, `reopened`, `resumed`, `extended`, `ended_by_proctor`, `refused`, and on
/// a server `fork`, `rollback`, `gap`, `disagreement`, `ungradable`, `proctor_unproven`,
/// `wrong_pack`); `detail` holds language-neutral facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub session: String,
    pub seq: u64,
    pub kind: String,
    /// Exam time when it happened, where known.
    pub elapsed_ms: Option<u64>,
    pub detail: String,
}

/// Who sat a session, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sitting {
    pub session: String,
    pub candidate: String,
    pub name: String,
    pub device: String,
    pub venue: String,
}

fn yes() -> bool {
    true
}

/// What the server made of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regrade {
    /// No server was asked (results from records alone).
    NotApplicable,
    Awaiting,
    Graded {
        verdict: Verdict,
        score: u32,
    },
    Ungradable,
}

/// One graded submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub session: String,
    pub problem: String,
    pub submitted_ms: u64,
    pub device_verdict: Verdict,
    pub device_score: u32,
    pub max_score: u32,
    pub regrade: Regrade,
}

#[derive(Default)]
struct Acc {
    name: String,
    venues: BTreeSet<String>,
    sessions: BTreeSet<String>,
    devices: BTreeSet<String>,
    attempts: Vec<Attempt>,
    incidents: Vec<Incident>,
    elapsed_ms: u64,
    first_wall: Option<String>,
    last_wall: Option<String>,
    ended: Option<String>,
}

/// Gathers sittings, attempts and incidents, then computes [`Results`].
pub struct ResultsBuilder {
    exam: PackRef,
    source: String,
    /// Problem columns declared, in the exam's order.
    declared: Vec<ProblemColumn>,
    /// Whether the declared columns are all there are (the exam's pack gave them): an
    /// attempt on another problem then makes no column and counts nothing.
    fixed: bool,
    /// Sessions that do not count, with why.
    withheld: BTreeMap<String, Vec<String>>,
    /// Problems seen in attempts, with the largest max score seen.
    seen: BTreeMap<String, u32>,
    /// session → candidate
    sessions: BTreeMap<String, String>,
    candidates: BTreeMap<String, Acc>,
}

impl ResultsBuilder {
    pub fn new(exam: PackRef, source: &str) -> ResultsBuilder {
        ResultsBuilder {
            exam,
            source: source.into(),
            declared: Vec::new(),
            fixed: false,
            withheld: BTreeMap::new(),
            seen: BTreeMap::new(),
            sessions: BTreeMap::new(),
            candidates: BTreeMap::new(),
        }
    }

    /// A builder whose columns are exactly `columns` (the exam pack's problems, in its
    /// order, with its maximums): what attempts claim adds no column and no maximum.
    pub fn for_exam(exam: PackRef, source: &str, columns: Vec<ProblemColumn>) -> ResultsBuilder {
        ResultsBuilder {
            declared: columns,
            fixed: true,
            ..ResultsBuilder::new(exam, source)
        }
    }

    /// Withholds `session`: its submissions count nothing, for `reason` (a stable code).
    pub fn withhold(&mut self, session: &str, reason: &str) {
        let reasons = self.withheld.entry(session.to_owned()).or_default();
        if !reasons.iter().any(|r| r == reason) {
            reasons.push(reason.to_owned());
        }
    }

    pub fn sitting(&mut self, s: Sitting) {
        self.sessions.insert(s.session.clone(), s.candidate.clone());
        let c = self.candidates.entry(s.candidate).or_default();
        if c.name.is_empty() {
            c.name = s.name;
        }
        if !s.venue.is_empty() {
            c.venues.insert(s.venue);
        }
        if !s.device.is_empty() {
            c.devices.insert(s.device);
        }
        c.sessions.insert(s.session);
    }

    /// The candidate of `session` (a session never given a sitting counts under its id).
    fn of(&mut self, session: &str) -> &mut Acc {
        let candidate = self
            .sessions
            .get(session)
            .cloned()
            .unwrap_or_else(|| session.to_owned());
        let acc = self.candidates.entry(candidate).or_default();
        acc.sessions.insert(session.to_owned());
        acc
    }

    pub fn attempt(&mut self, a: Attempt) {
        let max = self.seen.entry(a.problem.clone()).or_default();
        *max = (*max).max(a.max_score);
        self.of(&a.session.clone()).attempts.push(a);
    }

    pub fn incident(&mut self, i: Incident) {
        self.of(&i.session.clone()).incidents.push(i);
    }

    /// Notes a record's exam time and wall time for the session's candidate.
    pub fn progress(&mut self, session: &str, elapsed_ms: u64, wall_time: &str) {
        let acc = self.of(session);
        acc.elapsed_ms = acc.elapsed_ms.max(elapsed_ms);
        if acc.first_wall.as_deref().is_none_or(|w| wall_time < w) {
            acc.first_wall = Some(wall_time.to_owned());
        }
        if acc.last_wall.as_deref().is_none_or(|w| wall_time > w) {
            acc.last_wall = Some(wall_time.to_owned());
        }
    }

    pub fn ended(&mut self, session: &str, reason: &str) {
        self.of(session).ended = Some(reason.to_owned());
    }

    pub fn finish(self, generated_at: &str) -> Results {
        // Declared columns keep their order; unless they are fixed, the rest follow by id.
        let mut problems = self.declared;
        if !self.fixed {
            for (id, max_score) in self.seen {
                match problems.iter_mut().find(|p| p.id == id) {
                    Some(p) => p.max_score = p.max_score.max(max_score),
                    None => problems.push(ProblemColumn {
                        id,
                        max_score,
                        title: None,
                    }),
                }
            }
        }
        let (fixed, withheld) = (self.fixed, self.withheld);
        // Saturating: the numbers come from records, which a hostile device can set.
        let max_total = problems
            .iter()
            .fold(0u32, |n, p| n.saturating_add(p.max_score));
        let candidates = self
            .candidates
            .into_iter()
            .map(|(candidate, acc)| {
                let counts = |a: &&Attempt| !withheld.contains_key(&a.session);
                let cells: Vec<ProblemResult> = problems
                    .iter()
                    .map(|p| problem_result(p, &acc.attempts, counts, fixed))
                    .collect();
                let withheld: Vec<Withheld> = acc
                    .sessions
                    .iter()
                    .filter_map(|s| {
                        withheld.get(s).map(|reasons| Withheld {
                            session: s.clone(),
                            reasons: reasons.clone(),
                        })
                    })
                    .collect();
                let counted = withheld.len() < acc.sessions.len();
                let mut incidents = acc.incidents;
                incidents.sort_by(|a, b| (&a.session, a.seq).cmp(&(&b.session, b.seq)));
                CandidateResult {
                    candidate,
                    name: acc.name,
                    venues: acc.venues.into_iter().collect(),
                    sessions: acc.sessions.into_iter().collect(),
                    devices: acc.devices.into_iter().collect(),
                    total: cells.iter().fold(0u32, |n, c| n.saturating_add(c.score)),
                    max_total,
                    counted,
                    withheld,
                    solved: cells
                        .iter()
                        .filter(|c| c.max_score > 0 && c.score == c.max_score)
                        .count() as u32,
                    attempts: acc.attempts.len() as u32,
                    elapsed_ms: acc.elapsed_ms,
                    first_wall_time: acc.first_wall,
                    last_wall_time: acc.last_wall,
                    ended: acc.ended,
                    problems: cells,
                    incidents,
                }
            })
            .collect();
        Results {
            format: FORMAT.into(),
            exam: self.exam,
            source: self.source,
            generated_at: generated_at.into(),
            problems,
            candidates,
        }
    }
}

/// One candidate's standing on `column`, from the attempts `counts` admits. With `fixed`
/// columns no score exceeds the column's maximum (a server's re-grade never does anyway).
fn problem_result(
    column: &ProblemColumn,
    attempts: &[Attempt],
    counts: impl Fn(&&Attempt) -> bool,
    fixed: bool,
) -> ProblemResult {
    let mut out = ProblemResult {
        problem: column.id.clone(),
        score: 0,
        max_score: column.max_score,
        verdict: None,
        attempts: 0,
        best_at_ms: None,
        claimed: 0,
        awaiting_regrade: 0,
        ungradable: 0,
        disagreements: 0,
    };
    let mut mine: Vec<&Attempt> = attempts.iter().filter(|a| a.problem == column.id).collect();
    mine.sort_by_key(|a| a.submitted_ms);
    for a in mine {
        out.attempts += 1;
        out.claimed = out.claimed.max(a.device_score);
        let proven = match a.regrade {
            Regrade::Graded { verdict, score } => {
                if verdict != a.device_verdict || score != a.device_score {
                    out.disagreements += 1;
                }
                Some((verdict, score))
            }
            Regrade::Awaiting => {
                out.awaiting_regrade += 1;
                None
            }
            Regrade::Ungradable => {
                out.ungradable += 1;
                None
            }
            Regrade::NotApplicable => Some((a.device_verdict, a.device_score)),
        };
        let Some((verdict, score)) = proven.filter(|_| counts(&a)) else {
            continue;
        };
        let score = if fixed {
            score.min(column.max_score)
        } else {
            score
        };
        if out.verdict.is_none() || score > out.score {
            out.score = score;
            out.verdict = Some(verdict);
            out.best_at_ms = Some(a.submitted_ms);
        }
    }
    out
}

/// Results from verified records, one per pack the records name (oldest first by pack
/// id and version). `venue` labels every session (a device or a bundle knows only its own).
pub fn from_records(records: &[Record], venue: &str, generated_at: &str) -> Vec<Results> {
    let mut by_pack: BTreeMap<(String, String, String), ResultsBuilder> = BTreeMap::new();
    for r in records {
        let key = (
            r.pack.id.clone(),
            r.pack.version.clone(),
            r.pack.hash.clone(),
        );
        let b = by_pack
            .entry(key)
            .or_insert_with(|| ResultsBuilder::new(r.pack.clone(), "device"));
        add_record(b, r, venue);
    }
    by_pack
        .into_values()
        .map(|b| b.finish(generated_at))
        .collect()
}

/// The incident a record is, if it is one (a refusal, a proctor action, an interruption,
/// a reopening).
pub fn incident_of(r: &Record) -> Option<Incident> {
    let (kind, detail) = match &r.event {
        Event::SubmissionRefused {
            problem, reason, ..
        } => ("refused", format!("{problem}: {reason}")),
        Event::Proctor { action, .. } => match action {
            ProctorAction::Extend { minutes } => ("extended", format!("+{minutes} min")),
            ProctorAction::End => ("ended_by_proctor", String::new()),
            ProctorAction::Resume => ("resumed", String::new()),
        },
        Event::Interrupted { cause } => ("interrupted", cause.clone()),
        Event::Reopened { closed_ms } => ("reopened", format!("{} s", closed_ms / 1000)),
        Event::SessionStarted { .. } | Event::Submission { .. } | Event::SessionEnded { .. } => {
            return None;
        }
    };
    Some(Incident {
        session: r.session.clone(),
        seq: r.seq,
        kind: kind.into(),
        elapsed_ms: Some(r.elapsed_ms),
        detail,
    })
}

/// Adds what one verified record says to a builder.
pub fn add_record(b: &mut ResultsBuilder, r: &Record, venue: &str) {
    match &r.event {
        Event::SessionStarted { candidate_name, .. } => b.sitting(Sitting {
            session: r.session.clone(),
            candidate: r.candidate.clone(),
            name: candidate_name.clone(),
            device: r.device.clone(),
            venue: venue.into(),
        }),
        Event::Submission {
            problem,
            verdict,
            score,
            max_score,
            submitted_elapsed_ms,
            ..
        } => b.attempt(Attempt {
            session: r.session.clone(),
            problem: problem.clone(),
            submitted_ms: *submitted_elapsed_ms,
            device_verdict: *verdict,
            device_score: *score,
            max_score: *max_score,
            regrade: Regrade::NotApplicable,
        }),
        Event::SessionEnded { reason } => b.ended(&r.session, reason),
        _ => {
            if let Some(i) = incident_of(r) {
                b.incident(i);
            }
        }
    }
    b.progress(&r.session, r.elapsed_ms, &r.wall_time);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_hostile_device_inflates_saturate_instead_of_overflowing() {
        let pack = PackRef {
            id: "x".into(),
            version: "1".into(),
            hash: "h".into(),
        };
        let mut b = ResultsBuilder::new(pack, "device");
        for problem in ["p1", "p2"] {
            b.attempt(Attempt {
                session: "s".into(),
                problem: problem.into(),
                submitted_ms: 1,
                device_verdict: Verdict::Accepted,
                device_score: u32::MAX,
                max_score: u32::MAX,
                regrade: Regrade::NotApplicable,
            });
        }
        let r = b.finish("2026-11-30T12:00:00Z");
        assert_eq!(r.candidates[0].total, u32::MAX);
        assert_eq!(r.candidates[0].max_total, u32::MAX);
        assert_eq!(r.candidates[0].solved, 2);
    }
}
