//! Which sessions count. A session is withheld — its submissions count nothing until an
//! organizer decides — when its records raised a flag that puts what it claims in doubt
//! (it ran on another pack, went back, forked, carries an unproven proctor action, or claims
//! an exam time the pack does not give), when it is a second session for a candidate who
//! already has one, or when it submitted later than the pack's time and its proven
//! extensions allow. An organizer's decision (the newest for the session) settles it either
//! way, and is shown with the session's incidents.

use std::collections::BTreeMap;

use sqlexam_export::results::Incident;

use super::{Outcome, Refusal, Server, now};
use crate::model::{Flag, Outline, SessionDecision, SessionRow, SubmissionRow};

/// The longest note an organizer's decision takes, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Stored flag kinds that withhold their session.
pub const WITHHOLDING: &[&str] = &[
    "unadmitted",
    "not_on_roster",
    "wrong_pack",
    "rollback",
    "fork",
    "proctor_unproven",
    "over_duration",
];

/// What the standing of an exam's sessions is, and what it adds to the flags.
#[derive(Debug, Default)]
pub struct Standing {
    /// Withheld sessions, with the reasons (stable codes), in the order found.
    pub withheld: BTreeMap<String, Vec<String>>,
    /// Flags no record raised but the sessions together show (a second session, a
    /// submission after the time allowed).
    pub derived: Vec<Flag>,
    /// The organizers' decisions in force, as incidents of their sessions.
    pub decisions: Vec<Incident>,
}

/// The standing of `sessions` (one exam's), from their stored `flags`, `submissions`, the
/// exam pack's `outline` (if held) and the organizers' `decisions` (oldest first).
pub fn standing(
    exam: &str,
    sessions: &[SessionRow],
    flags: &[Flag],
    submissions: &[SubmissionRow],
    outline: Option<&Outline>,
    decisions: &[SessionDecision],
) -> Standing {
    let mut out = Standing::default();
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let add = |reasons: &mut BTreeMap<String, Vec<String>>, session: &str, reason: &str| {
        let r = reasons.entry(session.to_owned()).or_default();
        if !r.iter().any(|x| x == reason) {
            r.push(reason.to_owned());
        }
    };
    let derived = |session: &str, kind: &str, detail: String| Flag {
        exam: exam.to_owned(),
        session: session.to_owned(),
        seq: 0,
        kind: kind.into(),
        detail,
    };
    let known: BTreeMap<&str, &SessionRow> =
        sessions.iter().map(|s| (s.session.as_str(), s)).collect();
    for f in flags {
        if WITHHOLDING.contains(&f.kind.as_str())
            && let Some(s) = known.get(f.session.as_str())
        {
            add(&mut reasons, &s.session, &f.kind);
        }
    }
    if let Some(outline) = outline {
        let mut latest: BTreeMap<&str, u64> = BTreeMap::new();
        for b in submissions {
            let at = latest.entry(b.session.as_str()).or_default();
            *at = (*at).max(b.submitted_ms);
        }
        for s in sessions {
            let allowed = outline.duration_ms.saturating_add(s.extended_ms);
            if let Some(&at) = latest.get(s.session.as_str())
                && at > allowed
            {
                add(&mut reasons, &s.session, "over_duration");
                out.derived.push(derived(
                    &s.session,
                    "over_duration",
                    format!(
                        "a submission at {} min of exam time; the pack and proven extensions allow {} min",
                        at / 60_000,
                        allowed / 60_000
                    ),
                ));
            }
        }
    }
    // One sitting per candidate: the earliest session not withheld otherwise is the one;
    // every other is a second session.
    let mut by_candidate: BTreeMap<&str, Vec<&SessionRow>> = BTreeMap::new();
    for s in sessions {
        by_candidate.entry(&s.candidate).or_default().push(s);
    }
    for (candidate, mut mine) in by_candidate {
        if mine.len() < 2 {
            continue;
        }
        mine.sort_by(|a, b| (&a.created_at, &a.session).cmp(&(&b.created_at, &b.session)));
        let first = mine
            .iter()
            .find(|s| !reasons.contains_key(s.session.as_str()))
            .unwrap_or(&mine[0])
            .session
            .clone();
        for s in mine.iter().filter(|s| s.session != first) {
            add(&mut reasons, &s.session, "second_session");
            out.derived.push(derived(
                &s.session,
                "second_session",
                format!("candidate {candidate} already sat session {first}"),
            ));
        }
    }
    let mut newest: BTreeMap<&str, &SessionDecision> = BTreeMap::new();
    for d in decisions {
        newest.insert(d.session.as_str(), d);
    }
    for (session, d) in newest {
        if !known.contains_key(session) {
            continue;
        }
        if d.count {
            reasons.remove(session);
        } else {
            reasons.insert(session.to_owned(), vec!["excluded_by_organizer".into()]);
        }
        out.decisions.push(Incident {
            session: session.to_owned(),
            seq: 0,
            kind: if d.count {
                "organizer_counted"
            } else {
                "organizer_excluded"
            }
            .into(),
            elapsed_ms: None,
            detail: format!("{} ({}, {})", d.note, d.by, d.decided_at),
        });
    }
    out.withheld = reasons;
    out
}

impl Server {
    /// Keeps an organizer's decision on `session` of `exam`: count it despite its flags, or
    /// keep it out. `note` says why (required); `by` is the deciding token's label.
    pub async fn decide_session(
        &self,
        exam: &str,
        session: &str,
        count: bool,
        note: &str,
        by: &str,
    ) -> Outcome<SessionDecision> {
        let note = note.trim();
        if note.is_empty() {
            return Err(Refusal::invalid(
                "note_missing",
                "a decision needs a note saying why (\"note\")",
            ));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(Refusal::invalid(
                "note_too_long",
                format!("the note is longer than {MAX_NOTE_CHARS} characters"),
            ));
        }
        match self.store.session_facts(session).await? {
            Some(f) if f.exam == exam => {}
            _ => {
                return Err(Refusal::NotFound(format!(
                    "exam {exam:?} has no session {session:?}"
                )));
            }
        }
        let decision = SessionDecision {
            exam: exam.to_owned(),
            session: session.to_owned(),
            count,
            note: note.to_owned(),
            by: by.to_owned(),
            decided_at: now(),
        };
        self.store.add_decision(&decision).await?;
        eprintln!(
            "exam {exam}: session {session} {} by {by}: {note}",
            if count { "counted" } else { "excluded" }
        );
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, candidate: &str, created_at: &str) -> SessionRow {
        SessionRow {
            session: id.into(),
            device: "d".into(),
            candidate: candidate.into(),
            candidate_name: String::new(),
            venue: String::new(),
            held_seq: 1,
            created_at: created_at.into(),
            last_record_at: created_at.into(),
            elapsed_ms: 0,
            extended_ms: 0,
            first_wall: None,
            last_wall: None,
            ended: None,
            admitted: None,
        }
    }

    fn decision(session: &str, count: bool) -> SessionDecision {
        SessionDecision {
            exam: "x".into(),
            session: session.into(),
            count,
            note: "checked".into(),
            by: "organizer".into(),
            decided_at: "2026-12-08T10:00:00Z".into(),
        }
    }

    #[test]
    fn a_later_session_of_one_candidate_is_withheld_until_an_organizer_counts_it() {
        let sessions = [session("b", "c1", "t2"), session("a", "c1", "t1")];
        let s = standing("x", &sessions, &[], &[], None, &[]);
        assert_eq!(
            s.withheld.get("b"),
            Some(&vec!["second_session".to_owned()])
        );
        assert!(!s.withheld.contains_key("a"));
        let s = standing("x", &sessions, &[], &[], None, &[decision("b", true)]);
        assert!(s.withheld.is_empty());
        assert_eq!(s.decisions[0].kind, "organizer_counted");
        let later = [decision("b", true), decision("b", false)];
        let s = standing("x", &sessions, &[], &[], None, &later);
        assert_eq!(
            s.withheld.get("b"),
            Some(&vec!["excluded_by_organizer".to_owned()])
        );
    }

    #[test]
    fn the_first_session_that_counts_is_the_earliest_without_a_flag() {
        let sessions = [session("a", "c1", "t1"), session("b", "c1", "t2")];
        let flags = [Flag {
            exam: "x".into(),
            session: "a".into(),
            seq: 1,
            kind: "wrong_pack".into(),
            detail: String::new(),
        }];
        let s = standing("x", &sessions, &flags, &[], None, &[]);
        assert!(!s.withheld.contains_key("b"));
        assert_eq!(
            s.withheld.get("a"),
            Some(&vec!["wrong_pack".to_owned(), "second_session".to_owned()])
        );
    }

    #[test]
    fn a_submission_after_the_time_allowed_withholds_unless_an_extension_was_proven() {
        let outline = Outline {
            problems: Vec::new(),
            duration_ms: 60 * 60_000,
            roster: false,
        };
        let late = SubmissionRow {
            session: "a".into(),
            seq: 2,
            candidate: "c1".into(),
            candidate_name: String::new(),
            problem: "p".into(),
            submitted_ms: 61 * 60_000,
            device_verdict: sqlexam_core::grade::Verdict::Accepted,
            device_score: 100,
            max_score: 100,
            server_verdict: None,
            server_score: None,
            server_error: None,
        };
        let mut sessions = [session("a", "c1", "t1")];
        let s = standing(
            "x",
            &sessions,
            &[],
            std::slice::from_ref(&late),
            Some(&outline),
            &[],
        );
        assert_eq!(s.withheld.get("a"), Some(&vec!["over_duration".to_owned()]));
        assert_eq!(s.derived[0].kind, "over_duration");
        sessions[0].extended_ms = 5 * 60_000;
        let s = standing("x", &sessions, &[], &[late], Some(&outline), &[]);
        assert!(s.withheld.is_empty());
    }
}
