//! What to do with a session's records, decided once for every storage backend: which
//! records extend the chain, which are held back for a gap, which are kept as evidence of a
//! fork or rollback ([`plan`]); and what taking them means beyond the chain — submissions
//! to re-grade, flags to raise, incidents and progress to show ([`effects`]). A store calls [`decide`] inside the
//! transaction that loaded what it holds.

use std::collections::BTreeMap;

use sqlexam_core::pack::{Admitted, check_admission};
use sqlexam_core::record::{Event, ProctorAction, Record, proctor_statement};
use sqlexam_export::results::incident_of;

use crate::model::{
    Checks, Decision, Effects, Flag, ForkKind, Held, Incoming, NewSubmission, Plan, Progress,
    SessionFacts,
};

/// The [`crate::model::Decide`] every store is given.
pub fn decide(
    facts: &SessionFacts,
    checks: &Checks,
    held: &Held,
    incoming: &[Incoming],
    new_session: bool,
) -> Decision {
    let plan = plan(held, incoming);
    let effects = effects(facts, &plan, checks, new_session);
    Decision { plan, effects }
}

/// Decides what to do with `incoming` (one session's checked records) given what is held.
pub fn plan(held: &Held, incoming: &[Incoming]) -> Plan {
    let mut plan = Plan {
        seq: held.seq,
        head: held.head.clone(),
        ..Plan::default()
    };
    // Candidates above the head, by seq, each distinct record once; `true` = held back before.
    let mut candidates: BTreeMap<u64, Vec<(Incoming, bool)>> = BTreeMap::new();
    for p in &held.pending {
        candidates.entry(p.seq).or_default().push((p.clone(), true));
    }
    for r in incoming {
        if r.seq <= held.seq {
            match held.stored.get(&r.seq) {
                Some(hash) if *hash == r.hash => plan.already_stored += 1,
                _ => {
                    if !plan.forks.iter().any(|(_, f)| f.hash == r.hash) {
                        plan.forks.push((ForkKind::Rollback, r.clone()));
                    }
                }
            }
            continue;
        }
        let at = candidates.entry(r.seq).or_default();
        match at.iter().find(|(c, _)| c.hash == r.hash) {
            // The batch repeats a record already held back, or itself.
            Some(_) => plan.already_stored += 1,
            None => at.push((r.clone(), false)),
        }
    }
    // Follow the chain from the head as far as the candidates link.
    while let Some(group) = candidates.remove(&(plan.seq + 1)) {
        let next = plan.seq + 1;
        let linked = group.iter().position(|(c, _)| c.prev == plan.head);
        for (i, (c, was_pending)) in group.into_iter().enumerate() {
            if was_pending {
                plan.release.push((c.seq, c.hash.clone()));
            }
            if Some(i) == linked {
                plan.seq = next;
                plan.head = c.hash.clone();
                plan.append.push(c);
            } else {
                plan.forks.push((ForkKind::Fork, c));
            }
        }
        if linked.is_none() {
            break;
        }
    }
    // What is left waits for the records before it.
    for (seq, group) in candidates {
        if seq <= plan.seq {
            continue;
        }
        for (c, was_pending) in group {
            plan.held_back.push(seq);
            if !was_pending {
                plan.hold.push(c);
            }
        }
    }
    plan.held_back.dedup();
    if let Some(first) = plan.held_back.first() {
        plan.gap = Some([plan.seq + 1, first - 1]).filter(|[from, to]| from <= to);
    }
    plan
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
                ForkKind::Rollback => format!(
                    "another record at seq {} after the server had receipted it: the device's chain went backwards",
                    r.seq
                ),
                ForkKind::Fork => format!(
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
        progress(&mut out.progress, &record);
        match &record.event {
            Event::SessionStarted {
                duration_ms,
                admission,
                device_public_key,
                ..
            } => {
                admit(
                    &mut out,
                    checks,
                    &record,
                    admission.as_ref(),
                    device_public_key,
                    &flag,
                );
                if let Some(pack) = checks.duration_ms
                    && *duration_ms != pack
                {
                    out.flags.push(flag(
                        record.seq,
                        "over_duration",
                        format!(
                            "the session claims an exam time of {} min; the pack gives {} min",
                            duration_ms / 60_000,
                            pack / 60_000
                        ),
                    ));
                }
            }
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
                match why {
                    // Shown as the flag (an unproven action), never as what it claims.
                    Some(why) => out.flags.push(flag(
                        record.seq,
                        "proctor_unproven",
                        format!(
                            "a proctor action that is not proven ({}): {why}",
                            record.event.summary()
                        ),
                    )),
                    None => {
                        if let ProctorAction::Extend { minutes } = action {
                            out.progress.extended_ms = out
                                .progress
                                .extended_ms
                                .saturating_add(u64::from(*minutes) * 60_000);
                        }
                        out.incidents.extend(incident_of(&record));
                    }
                }
            }
            Event::SessionEnded { reason } => out.progress.ended = Some(reason.clone()),
            _ => out.incidents.extend(incident_of(&record)),
        }
    }
    out
}

/// How the session stands on its pack's roster, from its first record: kept as its
/// `admitted`, and flagged when unadmitted or not on the roster.
fn admit(
    out: &mut Effects,
    checks: &Checks,
    record: &Record,
    admission: Option<&sqlexam_core::pack::Admission>,
    device_public_key: &str,
    flag: &dyn Fn(u64, &str, String) -> Flag,
) {
    let Some(entry) = &checks.roster else {
        out.progress.admitted = Some(Admitted::NoRoster.code().into());
        return;
    };
    let candidate_key = entry
        .as_ref()
        .and_then(|e| sqlexam_core::crypto::PublicKey::from_hex(&e.public_key));
    let proctor = checks.proctor_key.flatten();
    let admitted = check_admission(
        candidate_key.as_ref(),
        proctor.as_ref(),
        admission,
        &record.session,
        device_public_key,
        &record.candidate,
    );
    out.progress.admitted = Some(admitted.code().into());
    if entry.is_none() {
        out.flags.push(flag(
            record.seq,
            "not_on_roster",
            format!("candidate {} is not on the exam's roster", record.candidate),
        ));
    }
    if admitted == Admitted::Unadmitted {
        let why = match admission {
            None => "its first record carries no admission".to_owned(),
            Some(a) => format!(
                "its admission ({}) does not verify for this session, device and candidate",
                a.by
            ),
        };
        out.flags.push(flag(
            record.seq,
            "unadmitted",
            format!("the session was not admitted: {why}"),
        ));
    }
}

/// Adds one record's times to a batch's progress.
fn progress(p: &mut Progress, r: &Record) {
    p.elapsed_ms = p.elapsed_ms.max(r.elapsed_ms);
    if p.first_wall
        .as_deref()
        .is_none_or(|w| r.wall_time.as_str() < w)
    {
        p.first_wall = Some(r.wall_time.clone());
    }
    if p.last_wall
        .as_deref()
        .is_none_or(|w| r.wall_time.as_str() > w)
    {
        p.last_wall = Some(r.wall_time.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Incoming;
    use sqlexam_core::record::GENESIS;

    fn chain(n: u64, salt: &str) -> Vec<Incoming> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let hash = format!("{salt}{seq}");
                let r = Incoming {
                    seq,
                    prev: prev.clone(),
                    hash: hash.clone(),
                    bytes: hash.clone().into_bytes(),
                    signature: Vec::new(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    fn held(records: &[Incoming], through: u64) -> Held {
        Held {
            seq: through,
            head: records
                .iter()
                .find(|r| r.seq == through)
                .map_or(GENESIS.to_string(), |r| r.hash.clone()),
            stored: records
                .iter()
                .filter(|r| r.seq <= through)
                .map(|r| (r.seq, r.hash.clone()))
                .collect(),
            pending: Vec::new(),
        }
    }

    #[test]
    fn a_chain_is_appended_and_a_resend_is_already_stored() {
        let c = chain(5, "a");
        let p = plan(&held(&c, 0), &c);
        assert_eq!(p.append.len(), 5);
        assert_eq!((p.seq, p.head.as_str()), (5, "a5"));
        let again = plan(&held(&c, 5), &c);
        assert_eq!((again.append.len(), again.already_stored), (0, 5));
        assert!(again.forks.is_empty());
    }

    #[test]
    fn a_gap_is_held_back_and_applied_when_filled() {
        let c = chain(6, "a");
        let first = plan(&held(&c, 0), &[c[0].clone(), c[3].clone(), c[4].clone()]);
        assert_eq!(first.seq, 1);
        assert_eq!(first.held_back, vec![4, 5]);
        assert_eq!(first.gap, Some([2, 3]));
        let mut h = held(&c, 1);
        h.pending = first.hold.clone();
        let second = plan(&h, &[c[1].clone(), c[2].clone()]);
        assert_eq!(second.seq, 5);
        assert_eq!(second.release.len(), 2);
        assert!(second.held_back.is_empty() && second.gap.is_none());
        assert_eq!(
            second.append.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![2, 3, 4, 5]
        );
    }

    #[test]
    fn another_record_at_a_held_seq_is_a_rollback_and_an_unlinked_next_a_fork() {
        let (c, other) = (chain(3, "a"), chain(4, "b"));
        let p = plan(&held(&c, 3), &other);
        assert_eq!(p.seq, 3, "nothing replaces what is held");
        let kinds: Vec<_> = p.forks.iter().map(|(k, r)| (k.code(), r.seq)).collect();
        assert_eq!(
            kinds,
            vec![
                ("rollback", 1),
                ("rollback", 2),
                ("rollback", 3),
                ("fork", 4)
            ]
        );
    }
}
