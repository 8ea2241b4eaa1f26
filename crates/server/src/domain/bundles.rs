//! A proctor's bundle, taken as a sync by hand: its signature must be the proctor's (of the
//! pack the server holds, when it does); its records are then verified and stored exactly
//! as a sync batch's; its receipts signed by this server are held against the log first,
//! and any the log does not bear out are reported and flagged.

use std::collections::{BTreeMap, BTreeSet};

use sqlexam_core::ErrorCode;
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::{BundleImport, SessionOutcome};
use sqlexam_export::bundle::{Known, Manifest, parse, verify};

use super::ingest::{Line, MAX_BATCH_LINES, Source, parse_batch};
use super::{Outcome, Refusal, Server, blocking, now};
use crate::model::Flag;

/// Adds `s` (a chunk's outcome for a session) to what earlier chunks gave.
fn merge(merged: &mut BTreeMap<String, SessionOutcome>, s: SessionOutcome) {
    match merged.get_mut(&s.session) {
        Some(m) => {
            m.stored += s.stored;
            m.already_stored += s.already_stored;
            m.forks.extend(s.forks);
            m.held_back = s.held_back;
            m.gap = s.gap;
            m.receipt = s.receipt;
        }
        None => {
            merged.insert(s.session.clone(), s);
        }
    }
}

impl Server {
    /// Imports a bundle uploaded with a token labelled `uploader`.
    pub async fn import_bundle(
        &self,
        body: impl AsRef<[u8]> + Send + 'static,
        uploader: &str,
    ) -> Outcome<BundleImport> {
        let bundle = blocking(move || parse(body.as_ref()))
            .await?
            .map_err(|e| Refusal::unacceptable(e.code(), format!("not a bundle: {e}")))?;
        let pack = self.store.pack_facts(&bundle.manifest.pack.hash).await?;
        let known = Known {
            pack: pack.as_ref().map(|p| {
                (
                    p.hash.clone(),
                    p.proctor_key.as_deref().and_then(PublicKey::from_hex),
                )
            }),
            server_keys: vec![self.key.public()],
        };
        let (bundle, report) = blocking(move || {
            let report = verify(&bundle, &known);
            (bundle, report)
        })
        .await?;
        if !report.signature_valid
            || report.pack_key_matches == Some(false)
            || !report.records_intact
        {
            let why: Vec<&str> = report
                .problems
                .iter()
                .filter(|p| !p.starts_with("session ") && !p.starts_with("receipts "))
                .map(String::as_str)
                .collect();
            return Err(Refusal::unacceptable(
                "bundle_not_signed",
                format!(
                    "the bundle is not as the pack's proctor signed it, so nothing was taken: {}",
                    why.join("; ")
                ),
            ));
        }
        // Against the log as it is before the bundle's records are taken: they could
        // otherwise rebuild the very history the server lost.
        let m = &bundle.manifest;
        let contradictions = self.contradictions(m).await?;
        // The lines are the ones the proctor signed (the digest held). Numbered as in the
        // file, whose line 1 is the header.
        let lines = parse_batch(&bundle.body).map_err(|e| match e {
            Refusal::Invalid {
                code,
                message,
                line,
            } => Refusal::Unacceptable {
                code,
                message: format!(
                    "a record line of the bundle (lines are counted from the header, line 1): {message}"
                ),
                line: line.map(|l| l + 1),
            },
            other => other,
        })?;
        // A bundle is of one pack: a record of another is refused, not slipped in under it.
        if let Some(l) = lines.iter().find(|l| l.record.pack.hash != m.pack.hash) {
            return Err(Refusal::Unacceptable {
                code: "wrong_pack",
                message: format!(
                    "line {}: a record of pack {} in a bundle of pack {}: nothing was taken",
                    l.line + 1,
                    l.record.pack.hash,
                    m.pack.hash
                ),
                line: Some(l.line + 1),
            });
        }
        if lines.is_empty() {
            return Err(Refusal::invalid(
                "empty_batch",
                "the bundle holds no records",
            ));
        }
        // The venue the proctor named — when the pack's proctor is known to have signed it;
        // else the uploading token's.
        let venue = match m.venue.trim() {
            named if pack.is_some() && !named.is_empty() => named,
            _ => uploader,
        };
        let source = Source {
            venue,
            limit_devices: false,
        };
        let mut merged = BTreeMap::new();
        let mut rejected = Vec::new();
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let chunk: Vec<Line> = lines.by_ref().take(MAX_BATCH_LINES).collect();
            let outcome = self.ingest(chunk, &source).await?;
            rejected.extend(outcome.rejected.into_iter().map(|mut r| {
                r.line += 1;
                r
            }));
            for s in outcome.sessions {
                merge(&mut merged, s);
            }
        }
        if !contradictions.is_empty() {
            eprintln!(
                "sqlexam serve: BUNDLE {} ({} {}, venue {:?}) CONTRADICTS THIS SERVER'S LOG: {}",
                report.fingerprint,
                m.pack.id,
                m.pack.version,
                m.venue,
                contradictions
                    .iter()
                    .map(|(_, d)| d.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let flags = contradictions
                .iter()
                .map(|(size, detail)| Flag {
                    exam: m.pack.id.clone(),
                    session: String::new(),
                    seq: *size,
                    kind: "log_contradiction".into(),
                    detail: format!(
                        "bundle {} (venue {:?}): {detail}",
                        report.fingerprint, m.venue
                    ),
                })
                .collect();
            self.store.add_flags(flags, &now()).await?;
        }
        Ok(BundleImport {
            fingerprint: report.fingerprint,
            pack: m.pack.clone(),
            venue: m.venue.clone(),
            proctor: if pack.is_some() {
                "verified"
            } else {
                "pack_not_held"
            }
            .into(),
            records: report.records as u64,
            sessions: merged.into_values().collect(),
            rejected,
            contradictions: contradictions.into_iter().map(|(_, d)| d).collect(),
        })
    }

    /// The checkpoints of this server's log in a bundle (signed by this server, so once
    /// true) that the log now contradicts: a tree larger than the log, or another root at
    /// that size.
    async fn contradictions(&self, m: &Manifest) -> Outcome<Vec<(u64, String)>> {
        let own = self.key.public();
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for s in &m.receipts {
            if PublicKey::from_hex(&s.public_key) != Some(own) {
                continue;
            }
            for c in &s.checkpoints {
                let Ok(cp) = sqlexam_core::tlog::open_checkpoint(&c.note, &own) else {
                    continue;
                };
                if !seen.insert(cp.size) {
                    continue;
                }
                match self.root_at(cp.size).await? {
                    None => out.push((
                        cp.size,
                        format!(
                            "this server signed a log of {} records, but its log now holds fewer: records it receipted are gone (restored from an old backup?)",
                            cp.size
                        ),
                    )),
                    Some(root) if root != cp.root => out.push((
                        cp.size,
                        format!(
                            "this server signed another tree of its first {} records than its log now holds: its history was rewritten",
                            cp.size
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
        Ok(out)
    }
}
