//! Checking a set of records without trusting whoever kept them: every signature (by the
//! key the session's first record names), chain continuity, sequence gaps, forks, records
//! from another device or session, and records out of order. Each finding names the seq.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Event, GENESIS, RECORD_DOMAIN, Record, SignedRecord};
use crate::encoding::unhex;
use crate::pack::PublicKey;

impl Serialize for SignedRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_export_line())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The bytes are not a record (at input position `index`).
    Unparsable { index: usize, error: String },
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
            Finding::Unparsable { index, error } => {
                write!(f, "record #{index} is not a valid record: {error}")
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
pub fn verify_records(input: &[SignedRecord]) -> (Vec<Record>, Vec<Finding>) {
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
                error: format!("unknown format {:?}", r.format),
            }),
            Err(e) => findings.push(Finding::Unparsable {
                index,
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
                if *other != hash {
                    findings.push(Finding::Fork {
                        session: session.clone(),
                        seq,
                    });
                }
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

/// Parses an export file: one `{"bytes": …, "signature": …}` object per line.
pub fn parse_export(text: &str) -> Result<Vec<SignedRecord>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        bytes: String,
        signature: String,
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            let signature = unhex(&line.signature)
                .ok_or_else(|| format!("line {}: the signature is not hex", i + 1))?;
            Ok(SignedRecord {
                bytes: line.bytes.into_bytes(),
                signature,
            })
        })
        .collect()
}
