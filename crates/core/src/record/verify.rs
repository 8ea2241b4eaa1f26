//! Checking a set of records without trusting whoever kept them: every signature (by the
//! key the session's first record names), chain continuity, sequence gaps, forks, exact
//! duplicates, records from another device or session, records out of order, and every
//! proctor action's proof (by the proctor key in the pack's signed manifest). Each finding
//! names the seq.
//!
//! What this cannot see: records deleted from the end of a chain. Whoever holds a store's
//! files can roll it back to any earlier record and the rest still verifies; only a party
//! that saw the later records (the server's receipts) can tell.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Event, GENESIS, RECORD_DOMAIN, Record, SignedRecord, proctor_statement};
use crate::crypto::PublicKey;
use crate::encoding::unhex;
use crate::pack::PROCTOR_DOMAIN;

/// What a verifier knows besides the records.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The key id of the device whose store this is: a session of any other device in it
    /// is a finding. `None` for an export or a bundle, which may hold several devices.
    pub device: Option<String>,
    /// The proctor public key of each pack the records name (by pack hash), read from the
    /// pack's signed manifest; `None` for a pack that allows no proctor actions. A proctor
    /// record of a pack not listed here cannot be proven.
    pub proctor_keys: BTreeMap<String, Option<PublicKey>>,
}

impl Serialize for SignedRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_export_line())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The bytes are not a record (at input position `index`; for an export file, `line`).
    Unparsable {
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
        error: String,
    },
    /// A session written by another device than the store's own.
    ForeignSession { session: String, device: String },
    /// The same record (same bytes) more than once.
    Duplicate { session: String, seq: u64 },
    /// A proctor action without a valid proctor signature: `why` is `missing`,
    /// `bad_signature`, `wrong_statement`, `no_proctor_key` (the pack allows no proctor
    /// actions) or `pack_unknown` (the pack is not at hand to read the key from).
    ProctorUnproven {
        session: String,
        seq: u64,
        why: String,
    },
    /// The signature does not verify with the session's device key.
    BadSignature { session: String, seq: u64 },
    /// The record names another device than the session's first record.
    ForeignDevice {
        session: String,
        seq: u64,
        device: String,
    },
    /// No first record (seq 1, session_started): signatures cannot be checked.
    MissingStart { session: String },
    /// `prev` is not the hash of the record before it.
    BrokenChain { session: String, seq: u64 },
    /// Records `from`..=`to` are missing.
    Gap { session: String, from: u64, to: u64 },
    /// Two different records with the same seq.
    Fork { session: String, seq: u64 },
    /// A record comes after one with a higher seq.
    OutOfOrder {
        session: String,
        seq: u64,
        after: u64,
    },
    /// Something other than a proctor action after the session ended.
    AfterEnd { session: String, seq: u64 },
    /// The exam clock went back between two records.
    ClockBack { session: String, seq: u64 },
    /// A submission id recorded twice.
    DuplicateSubmission {
        session: String,
        seq: u64,
        submission: u64,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::AfterEnd { session, seq } => {
                write!(
                    f,
                    "session {session}, seq {seq}: recorded after the session ended"
                )
            }
            Finding::ClockBack { session, seq } => {
                write!(f, "session {session}, seq {seq}: the exam clock went back")
            }
            Finding::DuplicateSubmission {
                session,
                seq,
                submission,
            } => {
                write!(
                    f,
                    "session {session}, seq {seq}: submission {submission} is recorded twice"
                )
            }
            Finding::Unparsable {
                line: Some(line),
                error,
                ..
            } => write!(f, "line {line} is not a valid record: {error}"),
            Finding::Unparsable { index, error, .. } => {
                write!(f, "record #{index} is not a valid record: {error}")
            }
            Finding::ForeignSession { session, device } => write!(
                f,
                "session {session} was written by device {device}, not by this store's device"
            ),
            Finding::Duplicate { session, seq } => write!(
                f,
                "session {session}, seq {seq}: the same record is stored more than once"
            ),
            Finding::ProctorUnproven { session, seq, why } => {
                let why = match why.as_str() {
                    "missing" => "it carries no proctor signature",
                    "bad_signature" => "its proctor signature does not verify",
                    "wrong_statement" => "its proctor signature is for another action or place",
                    "no_proctor_key" => "its pack allows no proctor actions",
                    _ => "its pack is not at hand to check the proctor's key (give the pack)",
                };
                write!(
                    f,
                    "session {session}, seq {seq}: a proctor action that is not proven: {why}"
                )
            }
            Finding::BadSignature { session, seq } => write!(
                f,
                "session {session}, seq {seq}: the signature does not verify (the record was altered or not written by this device)"
            ),
            Finding::ForeignDevice {
                session,
                seq,
                device,
            } => write!(
                f,
                "session {session}, seq {seq}: written by another device ({device})"
            ),
            Finding::MissingStart { session } => write!(
                f,
                "session {session}: its first record (session_started) is missing, so no signature can be checked"
            ),
            Finding::BrokenChain { session, seq } => write!(
                f,
                "session {session}, seq {seq}: prev does not match the record before it"
            ),
            Finding::Gap { session, from, to } if from == to => {
                write!(f, "session {session}: record seq {from} is missing")
            }
            Finding::Gap { session, from, to } => write!(
                f,
                "session {session}: records seq {from} to {to} are missing"
            ),
            Finding::Fork { session, seq } => write!(
                f,
                "session {session}, seq {seq}: two different records claim this seq (a fork)"
            ),
            Finding::OutOfOrder {
                session,
                seq,
                after,
            } => write!(
                f,
                "session {session}, seq {seq}: comes after seq {after} (out of order)"
            ),
        }
    }
}

/// Verifies records given in their stored order. Returns the parsed records that passed
/// and every finding.
pub fn verify_records(
    input: &[SignedRecord],
    expect: &Expectations,
) -> (Vec<Record>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut sessions: BTreeMap<String, Vec<(usize, Record, &SignedRecord)>> = BTreeMap::new();
    for (index, signed) in input.iter().enumerate() {
        match serde_json::from_slice::<Record>(&signed.bytes) {
            Ok(r) if r.format == super::FORMAT => sessions
                .entry(r.session.clone())
                .or_default()
                .push((index, r, signed)),
            Ok(r) => findings.push(Finding::Unparsable {
                index,
                line: None,
                error: format!("unknown format {:?}", r.format),
            }),
            Err(e) => findings.push(Finding::Unparsable {
                index,
                line: None,
                error: e.to_string(),
            }),
        }
    }
    let mut good = Vec::new();
    for (session, records) in sessions {
        // The device key comes from the session's first record, which signs itself.
        let start = records.iter().find(|(_, r, _)| r.seq == 1);
        let key = start.and_then(|(_, r, _)| match &r.event {
            Event::SessionStarted {
                device_public_key, ..
            } => PublicKey::from_hex(device_public_key),
            _ => None,
        });
        let device = start.map(|(_, r, _)| r.device.clone());
        if let (Some(own), Some(theirs)) = (&expect.device, &device)
            && own != theirs
        {
            findings.push(Finding::ForeignSession {
                session: session.clone(),
                device: theirs.clone(),
            });
        }
        if key.is_none() {
            findings.push(Finding::MissingStart {
                session: session.clone(),
            });
        }
        let mut expected_seq = 1u64;
        let mut prev_hash = GENESIS.to_string();
        let mut by_seq: BTreeMap<u64, String> = BTreeMap::new();
        for (_, record, signed) in &records {
            let seq = record.seq;
            let hash = signed.hash();
            let signature_ok = key
                .is_some_and(|k| k.verify(RECORD_DOMAIN, &signed.bytes, &signed.signature))
                && key.is_some_and(|k| k.key_id() == record.device);
            if device.as_ref().is_some_and(|d| *d != record.device) {
                findings.push(Finding::ForeignDevice {
                    session: session.clone(),
                    seq,
                    device: record.device.clone(),
                });
            } else if key.is_some() && !signature_ok {
                findings.push(Finding::BadSignature {
                    session: session.clone(),
                    seq,
                });
            }
            if let Some(other) = by_seq.get(&seq) {
                findings.push(if *other != hash {
                    Finding::Fork {
                        session: session.clone(),
                        seq,
                    }
                } else {
                    Finding::Duplicate {
                        session: session.clone(),
                        seq,
                    }
                });
                continue;
            }
            by_seq.insert(seq, hash.clone());
            if seq < expected_seq {
                findings.push(Finding::OutOfOrder {
                    session: session.clone(),
                    seq,
                    after: expected_seq - 1,
                });
            } else {
                if seq > expected_seq {
                    findings.push(Finding::Gap {
                        session: session.clone(),
                        from: expected_seq,
                        to: seq - 1,
                    });
                }
                if record.prev != prev_hash && seq == expected_seq {
                    findings.push(Finding::BrokenChain {
                        session: session.clone(),
                        seq,
                    });
                }
                expected_seq = seq + 1;
            }
            prev_hash = hash;
            if let Event::Proctor { action, proof } = &record.event {
                let why = match (proof, expect.proctor_keys.get(&record.pack.hash)) {
                    (None, _) => Some("missing"),
                    (Some(_), None) => Some("pack_unknown"),
                    (Some(_), Some(None)) => Some("no_proctor_key"),
                    (Some(p), Some(Some(k))) => {
                        if p.statement
                            != proctor_statement(&record.session, seq, &record.prev, action)
                        {
                            Some("wrong_statement")
                        } else if !unhex(&p.signature).is_some_and(|sig| {
                            k.verify(PROCTOR_DOMAIN, p.statement.as_bytes(), &sig)
                        }) {
                            Some("bad_signature")
                        } else {
                            None
                        }
                    }
                };
                if let Some(why) = why {
                    findings.push(Finding::ProctorUnproven {
                        session: session.clone(),
                        seq,
                        why: why.into(),
                    });
                }
            }
            if signature_ok {
                good.push(record.clone());
            }
        }
        // What the records mean must make sense too.
        let mut ended_at: Option<u64> = None;
        let mut clock = 0u64;
        let mut seen = std::collections::BTreeSet::new();
        for (_, r, _) in &records {
            let session = session.clone();
            // After the end, only proctor actions, refusals, and verdicts of submissions made
            // before the end may follow.
            let allowed_after_end = match &r.event {
                Event::Proctor { .. } | Event::SubmissionRefused { .. } => true,
                Event::Submission {
                    submitted_elapsed_ms,
                    ..
                } => ended_at.is_some_and(|end| *submitted_elapsed_ms <= end),
                _ => false,
            };
            if ended_at.is_some() && !allowed_after_end {
                findings.push(Finding::AfterEnd {
                    session: session.clone(),
                    seq: r.seq,
                });
            }
            if r.elapsed_ms < clock {
                findings.push(Finding::ClockBack {
                    session: session.clone(),
                    seq: r.seq,
                });
            }
            clock = clock.max(r.elapsed_ms);
            match &r.event {
                Event::SessionEnded { .. } => ended_at = Some(r.elapsed_ms),
                Event::Submission { submission_id, .. }
                | Event::SubmissionRefused { submission_id, .. }
                    if !seen.insert(*submission_id) =>
                {
                    findings.push(Finding::DuplicateSubmission {
                        session,
                        seq: r.seq,
                        submission: *submission_id,
                    });
                }
                _ => {}
            }
        }
    }
    (good, findings)
}

/// Parses an export file: one `{"bytes": …, "signature": …}` object per line. A line that
/// is not one (a truncated file, an edited line) is a finding naming the line, and the
/// other lines are still read.
pub fn parse_export(text: &str) -> (Vec<SignedRecord>, Vec<Finding>) {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        bytes: String,
        signature: String,
    }
    let mut records = Vec::new();
    let mut findings = Vec::new();
    for (index, (i, l)) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .enumerate()
    {
        let parsed = serde_json::from_str::<Line>(l)
            .map_err(|e| e.to_string())
            .and_then(|line| {
                let signature =
                    unhex(&line.signature).ok_or("the signature is not hex".to_string())?;
                Ok(SignedRecord {
                    bytes: line.bytes.into_bytes(),
                    signature,
                })
            });
        match parsed {
            Ok(r) => records.push(r),
            Err(error) => findings.push(Finding::Unparsable {
                index,
                line: Some(i + 1),
                error,
            }),
        }
    }
    (records, findings)
}

/// How one session stands on its pack's roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionAdmission {
    pub session: String,
    pub candidate: String,
    pub admitted: crate::pack::Admitted,
    pub on_roster: bool,
}

impl SessionAdmission {
    /// What is wrong with it, if anything: a sentence.
    pub fn problem(&self) -> Option<String> {
        use crate::pack::Admitted;
        let who = format!("session {} (candidate {})", self.session, self.candidate);
        match (self.admitted, self.on_roster) {
            (Admitted::Unadmitted, _) => Some(format!(
                "{who}: not admitted — its first record carries no admission that verifies for this session, device and candidate"
            )),
            (Admitted::ByCode | Admitted::ByProctor, false) => {
                Some(format!("{who}: not on the exam's roster"))
            }
            _ => None,
        }
    }
}

/// How each session of `records` (already verified) was admitted, for the sessions of packs
/// whose roster is in `rosters` (by pack hash), with each pack's proctor key from
/// `proctor_keys`. Sessions of packs without a known roster are not listed.
pub fn admissions(
    records: &[Record],
    rosters: &BTreeMap<String, crate::pack::Roster>,
    proctor_keys: &BTreeMap<String, Option<PublicKey>>,
) -> Vec<SessionAdmission> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::SessionStarted {
                device_public_key,
                admission,
                ..
            } if r.seq == 1 => {
                let roster = rosters.get(&r.pack.hash)?;
                let proctor = proctor_keys.get(&r.pack.hash).copied().flatten();
                Some(SessionAdmission {
                    session: r.session.clone(),
                    candidate: r.candidate.clone(),
                    admitted: crate::pack::admitted(
                        Some(roster),
                        proctor.as_ref(),
                        admission.as_ref(),
                        &r.session,
                        device_public_key,
                        &r.candidate,
                    ),
                    on_roster: roster.entry(&r.candidate).is_some(),
                })
            }
            _ => None,
        })
        .collect()
}
