//! What organizers read: an exam's results in sqlexam-export's one model (the server's
//! re-grade is the score once it has one), its flags and gaps, and the dashboard's view of
//! venues and sessions.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlexam_export::results::{Attempt, Regrade, Results, ResultsBuilder, Sitting};

use super::{Outcome, Server, now};
use crate::model::{Flag, Gap, SessionRow};

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
}

/// An exam's flags, and its gaps: not flags but the present state, records held back
/// until the missing ones arrive.
#[derive(Debug, Serialize)]
pub struct FlagsView {
    pub exam: String,
    pub flags: Vec<Flag>,
    pub gaps: Vec<Gap>,
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
        let sessions = self.store.sessions(exam).await?;
        self.results_of(exam, &sessions).await
    }

    /// `exam`'s results over `sessions`: a candidate who submitted nothing is in them too.
    async fn results_of(&self, exam: &str, sessions: &[SessionRow]) -> Outcome<Results> {
        let pack = self.store.exam_pack(exam).await?;
        let exam_ref = sqlexam_core::record::PackRef {
            id: exam.to_owned(),
            version: pack.as_ref().map(|p| p.version.clone()).unwrap_or_default(),
            hash: pack.map(|p| p.hash).unwrap_or_default(),
        };
        let mut b = ResultsBuilder::new(exam_ref, "server");
        for s in sessions {
            b.sitting(Sitting {
                session: s.session.clone(),
                candidate: s.candidate.clone(),
                name: s.candidate_name.clone(),
                device: s.device.clone(),
                venue: s.venue.clone(),
            });
        }
        for r in self.store.submissions(exam).await? {
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
        Ok(b.finish(&now()))
    }

    pub async fn flags(&self, exam: &str) -> Outcome<FlagsView> {
        Ok(FlagsView {
            exam: exam.to_owned(),
            flags: self.store.flags(exam).await?,
            gaps: self.store.gaps(exam).await?,
        })
    }

    pub async fn dashboard(&self, exam: &str) -> Outcome<DashboardView> {
        let sessions = self.store.sessions(exam).await?;
        let results = self.results_of(exam, &sessions).await?;
        let flags = self.store.flags(exam).await?;
        let gaps = self.store.gaps(exam).await?;
        Ok(DashboardView {
            results,
            venues: venues(&sessions, &gaps),
            sessions,
            flags,
            gaps,
        })
    }
}
