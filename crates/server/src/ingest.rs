//! Taking in a batch of records: parsing (a malformed batch is refused whole), checking each
//! record against its session's device key, and planning what to store — the same decision
//! for every storage backend, which only loads what it holds and writes the plan.

use std::collections::BTreeMap;

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::Rejected;
use sqlexam_core::record::{Event, FORMAT, RECORD_DOMAIN, Record, SignedRecord, parse_export};

use crate::error::ApiFailure;

/// One line of a batch, parsed.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based line number in the batch.
    pub line: usize,
    pub signed: SignedRecord,
    pub record: Record,
    pub hash: String,
}

/// Parses a batch: every non-blank line must be a `{"bytes", "signature"}` object whose bytes
/// are a record of this format. Anything else refuses the whole batch, naming the line, so a
/// damaged upload stores nothing.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Line>, ApiFailure> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiFailure::bad_request(
            "not_utf8",
            format!("the batch is not UTF-8 text (byte {})", e.valid_up_to()),
        )
    })?;
    let (records, findings) = parse_export(text);
    if let Some(sqlexam_core::record::Finding::Unparsable { line, error, .. }) = findings.first() {
        return Err(ApiFailure::bad_request(
            "malformed_line",
            format!(
                "line {} is not a {{\"bytes\", \"signature\"}} record line: {error}",
                line.unwrap_or(0)
            ),
        )
        .at_line(line.unwrap_or(0)));
    }
    // parse_export skips blank lines; number the records by their real lines.
    let line_numbers = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i + 1);
    let mut lines = Vec::with_capacity(records.len());
    for (signed, line) in records.into_iter().zip(line_numbers) {
        let record = match serde_json::from_slice::<Record>(&signed.bytes) {
            Ok(r) if r.format == FORMAT => r,
            Ok(r) => {
                return Err(ApiFailure::bad_request(
                    "malformed_line",
                    format!("line {line}: unknown record format {:?}", r.format),
                )
                .at_line(line));
            }
            Err(e) => {
                return Err(ApiFailure::bad_request(
                    "malformed_line",
                    format!("line {line}: the bytes are not a record: {e}"),
                )
                .at_line(line));
            }
        };
        let hash = signed.hash();
        lines.push(Line {
            line,
            signed,
            record,
            hash,
        });
    }
    Ok(lines)
}

/// What binds a session: the device that writes it, for which candidate and pack. Fixed by
/// its first record (trust on first use) and checked for every later record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub session: String,
    pub device: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub candidate: String,
    pub candidate_name: String,
    /// The pack id: the exam.
    pub exam: String,
    pub pack_hash: String,
}

impl SessionFacts {
    /// The facts a session's first record states, if it is one (seq 1, `session_started`)
    /// whose key is the device it names.
    pub fn from_start(line: &Line) -> Option<SessionFacts> {
        let r = &line.record;
        let Event::SessionStarted {
            device_public_key,
            candidate_name,
            ..
        } = &r.event
        else {
            return None;
        };
        let key = PublicKey::from_hex(device_public_key)?;
        (r.seq == 1 && key.key_id() == r.device).then(|| SessionFacts {
            session: r.session.clone(),
            device: r.device.clone(),
            public_key: device_public_key.clone(),
            candidate: r.candidate.clone(),
            candidate_name: candidate_name.clone(),
            exam: r.pack.id.clone(),
            pack_hash: r.pack.hash.clone(),
        })
    }

    /// Refuses a record this session's device did not sign, or that names another
    /// device, candidate or pack than the session's first record.
    pub fn check(&self, line: &Line) -> Result<(), Rejected> {
        let r = &line.record;
        let reject = |code: &str, message: String| Rejected {
            line: line.line,
            session: Some(r.session.clone()),
            seq: Some(r.seq),
            code: code.into(),
            message,
        };
        let key = PublicKey::from_hex(&self.public_key);
        if !key.is_some_and(|k| k.verify(RECORD_DOMAIN, &line.signed.bytes, &line.signed.signature))
        {
            return Err(reject(
                "bad_signature",
                format!(
                    "session {}, seq {}: the signature does not verify with the session's device key {}",
                    r.session, r.seq, self.device
                ),
            ));
        }
        let mismatch = if r.device != self.device {
            Some(("device", &r.device, &self.device))
        } else if r.candidate != self.candidate {
            Some(("candidate", &r.candidate, &self.candidate))
        } else if r.pack.hash != self.pack_hash {
            Some(("pack", &r.pack.hash, &self.pack_hash))
        } else {
            None
        };
        match mismatch {
            Some((what, theirs, ours)) => Err(reject(
                "inconsistent",
                format!(
                    "session {}, seq {}: names {what} {theirs}, but the session's first record names {ours}",
                    r.session, r.seq
                ),
            )),
            None => Ok(()),
        }
    }
}

/// A record on its way in: from this batch, or held back by an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub seq: u64,
    pub prev: String,
    pub hash: String,
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
}

impl From<&Line> for Incoming {
    fn from(l: &Line) -> Self {
        Incoming {
            seq: l.record.seq,
            prev: l.record.prev.clone(),
            hash: l.hash.clone(),
            bytes: l.signed.bytes.clone(),
            signature: l.signed.signature.clone(),
        }
    }
}

/// What a store holds of a session when a batch arrives.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Highest contiguous seq (0: none).
    pub seq: u64,
    /// Hash of record `seq` (the genesis hash for 0).
    pub head: String,
    /// The hash of each stored record whose seq the batch also carries.
    pub stored: BTreeMap<u64, String>,
    /// Records held back earlier, waiting for the ones before them.
    pub pending: Vec<Incoming>,
}

/// Why a record is kept as evidence instead of in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkKind {
    /// Another record at a seq the server already held — and had given a receipt for: the
    /// device's chain went backwards (a rolled-back or rewritten store).
    Rollback,
    /// The next seq, but not chained to the record the server holds before it.
    Fork,
}

impl ForkKind {
    pub fn code(self) -> &'static str {
        match self {
            ForkKind::Rollback => "rollback",
            ForkKind::Fork => "fork",
        }
    }
}

/// The decision for one session's records.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Records to append to the chain, in seq order.
    pub append: Vec<Incoming>,
    /// Records kept as evidence only.
    pub forks: Vec<(ForkKind, Incoming)>,
    /// Records of this batch to hold back (not stored before).
    pub hold: Vec<Incoming>,
    /// Held-back records now in the chain or found to be forks: no longer pending.
    pub release: Vec<(u64, String)>,
    pub already_stored: u64,
    /// The session's new head.
    pub seq: u64,
    pub head: String,
    /// Seqs still held back after this batch, and the first missing range.
    pub held_back: Vec<u64>,
    pub gap: Option<[u64; 2]>,
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

#[cfg(test)]
mod tests {
    use super::*;
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
