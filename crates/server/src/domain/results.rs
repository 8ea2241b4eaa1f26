//! What organizers read: an exam's results in sqlexam-export's one model (only what the
//! server proved counts: its re-grades, on the exam pack's problems and maximums, from
//! sessions not withheld), its flags and gaps, and the dashboard's view of venues and
//! sessions.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlexam_export::results::{
    Attempt, Incident, ProblemColumn, Regrade, Results, ResultsBuilder, Sitting,
};

use super::standing::{Standing, standing};
use super::{Outcome, Server, now};
use crate::model::{Flag, Gap, Outline, PackFacts, SessionDecision, SessionRow, SubmissionRow};

/// One venue at a glance: its sessions and how fresh its newest record is.
#[derive(Debug, Serialize)]
pub struct VenueView {
    pub venue: String,
    pub sessions: usize,
    pub candidates: usize,
    /// When a record from it last arrived.
    pub last_record_at: Option<String>,
    /// Its sessions holding records back until missing ones arrive.
    pub sessions_with_gaps: usize,
}

/// Everything the organizer's page shows, in one answer.
#[derive(Debug, Serialize)]
pub struct DashboardView {
    pub results: Results,
    pub venues: Vec<VenueView>,
    pub sessions: Vec<SessionRow>,
    pub flags: Vec<Flag>,
    pub gaps: Vec<Gap>,
    pub decisions: Vec<SessionDecision>,
    /// Whether the server holds the exam's pack: without it nothing is re-graded, so
    /// nothing counts.
    pub pack_held: bool,
    /// Whether the exam's pack has a roster (who may sit, with admission codes): without
    /// one, whoever checks in is taken as the candidate they say.
    pub roster: bool,
}

/// An exam's flags, and its gaps: not flags but the present state, records held back
/// until the missing ones arrive.
#[derive(Debug, Serialize)]
pub struct FlagsView {
    pub exam: String,
    /// Flags records raised, then those the sessions together show (seq 0).
    pub flags: Vec<Flag>,
    pub gaps: Vec<Gap>,
    /// Organizers' decisions on withheld sessions, oldest first.
    pub decisions: Vec<SessionDecision>,
}

/// How an exam's sessions stand, read once.
struct Judged {
    pack: Option<PackFacts>,
    outline: Option<Outline>,
    sessions: Vec<SessionRow>,
    submissions: Vec<SubmissionRow>,
    /// Stored flags, then the derived ones.
    flags: Vec<Flag>,
    decisions: Vec<SessionDecision>,
    standing: Standing,
}

/// Everything results are computed from, read once.
struct Gathered {
    sessions: Vec<SessionRow>,
    flags: Vec<Flag>,
    decisions: Vec<SessionDecision>,
    results: Results,
    pack_held: bool,
    roster: bool,
}

/// Each venue's sessions, candidates, freshness and gaps.
fn venues(sessions: &[SessionRow], gaps: &[Gap]) -> Vec<VenueView> {
    let mut venues: BTreeMap<&str, (VenueView, BTreeSet<&str>)> = BTreeMap::new();
    for s in sessions {
        let (v, candidates) = venues.entry(s.venue.as_str()).or_insert_with(|| {
            (
                VenueView {
                    venue: s.venue.clone(),
                    sessions: 0,
                    candidates: 0,
                    last_record_at: None,
                    sessions_with_gaps: 0,
                },
                BTreeSet::new(),
            )
        });
        v.sessions += 1;
        candidates.insert(s.candidate.as_str());
        if v.last_record_at
            .as_deref()
            .is_none_or(|t| s.last_record_at.as_str() > t)
        {
            v.last_record_at = Some(s.last_record_at.clone());
        }
        if gaps.iter().any(|g| g.session == s.session) {
            v.sessions_with_gaps += 1;
        }
    }
    venues
        .into_values()
        .map(|(mut v, candidates)| {
            v.candidates = candidates.len();
            v
        })
        .collect()
}

impl Server {
    /// The results of `exam`, over all its sessions.
    pub async fn results(&self, exam: &str) -> Outcome<Results> {
        Ok(self.gather(exam).await?.results)
    }

    /// What `exam`'s sessions stand as: its pack and outline, its sessions and submissions,
    /// its flags (stored, then those the sessions together show), the organizers' decisions
    /// and which sessions are withheld.
    async fn judge(&self, exam: &str) -> Outcome<Judged> {
        let sessions = self.store.sessions(exam).await?;
        let pack = self.store.exam_pack(exam).await?;
        let outline = match &pack {
            Some(p) => self.outline(p).await?,
            None => None,
        };
        let submissions = self.store.submissions(exam).await?;
        let mut flags = self.store.flags(exam).await?;
        let decisions = self.store.decisions(exam).await?;
        let standing = standing(
            exam,
            &sessions,
            &flags,
            &submissions,
            outline.as_ref(),
            &decisions,
        );
        flags.extend(standing.derived.iter().cloned());
        Ok(Judged {
            pack,
            outline,
            sessions,
            submissions,
            flags,
            decisions,
            standing,
        })
    }

    /// `exam`'s sessions, flags, decisions and results: a candidate who submitted nothing
    /// is in them too.
    async fn gather(&self, exam: &str) -> Outcome<Gathered> {
        let Judged {
            pack,
            outline,
            sessions,
            submissions,
            flags,
            decisions,
            standing:
                Standing {
                    withheld,
                    decisions: decided,
                    ..
                },
        } = self.judge(exam).await?;
        let exam_ref = sqlexam_core::record::PackRef {
            id: exam.to_owned(),
            version: pack.as_ref().map(|p| p.version.clone()).unwrap_or_default(),
            hash: pack.map(|p| p.hash).unwrap_or_default(),
        };
        // The columns are the pack's, never what records claim; without the pack, none.
        let columns = outline
            .iter()
            .flat_map(|o| &o.problems)
            .map(|p| ProblemColumn {
                id: p.id.clone(),
                max_score: p.points,
                title: Some(p.title.clone()),
            })
            .collect();
        let mut b = ResultsBuilder::for_exam(exam_ref, "server", columns);
        for s in &sessions {
            b.sitting(Sitting {
                session: s.session.clone(),
                candidate: s.candidate.clone(),
                name: s.candidate_name.clone(),
                device: s.device.clone(),
                venue: s.venue.clone(),
            });
            if let Some(wall) = &s.first_wall {
                b.progress(&s.session, s.elapsed_ms, wall);
            }
            if let Some(wall) = &s.last_wall {
                b.progress(&s.session, s.elapsed_ms, wall);
            }
            if let Some(ended) = &s.ended {
                b.ended(&s.session, ended);
            }
        }
        for (session, reasons) in &withheld {
            for r in reasons {
                b.withhold(session, r);
            }
        }
        for r in submissions {
            b.attempt(Attempt {
                session: r.session,
                problem: r.problem,
                submitted_ms: r.submitted_ms,
                device_verdict: r.device_verdict,
                device_score: r.device_score,
                max_score: r.max_score,
                regrade: match (r.server_verdict, r.server_score, r.server_error) {
                    (Some(verdict), Some(score), _) => Regrade::Graded { verdict, score },
                    (_, _, Some(_)) => Regrade::Ungradable,
                    _ => Regrade::Awaiting,
                },
            });
        }
        for i in self.store.incidents(exam).await? {
            b.incident(i);
        }
        // What the server found is shown where the candidate is, beside what happened.
        for f in &flags {
            b.incident(Incident {
                session: f.session.clone(),
                seq: f.seq,
                kind: f.kind.clone(),
                elapsed_ms: None,
                detail: f.detail.clone(),
            });
        }
        for i in decided {
            b.incident(i);
        }
        Ok(Gathered {
            sessions,
            flags,
            decisions,
            results: b.finish(&now()),
            pack_held: outline.is_some(),
            roster: outline.as_ref().is_some_and(|o| o.roster),
        })
    }

    pub async fn flags(&self, exam: &str) -> Outcome<FlagsView> {
        let j = self.judge(exam).await?;
        Ok(FlagsView {
            exam: exam.to_owned(),
            flags: j.flags,
            gaps: self.store.gaps(exam).await?,
            decisions: j.decisions,
        })
    }

    pub async fn dashboard(&self, exam: &str) -> Outcome<DashboardView> {
        let g = self.gather(exam).await?;
        let gaps = self.store.gaps(exam).await?;
        Ok(DashboardView {
            results: g.results,
            venues: venues(&g.sessions, &gaps),
            sessions: g.sessions,
            flags: g.flags,
            gaps,
            decisions: g.decisions,
            pack_held: g.pack_held,
            roster: g.roster,
        })
    }
}
