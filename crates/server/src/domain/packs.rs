//! Exams' packs on the server: an upload is verified as the app verifies a pack (and
//! opened, to prove a sealed pack's start code), held once per exam and version, and the
//! submissions that waited for it are queued for re-grading.

use serde::Serialize;
use sqlexam_core::ErrorCode;
use sqlexam_core::pack::PackError;

use super::regrade::WAITING_FOR_PACK;
use super::{Outcome, Refusal, Server, blocking, now};
use crate::model::{ExamRow, Outline, OutlineProblem, PackFacts, RosterRow, StoredPack};

/// What the server took.
#[derive(Debug, Serialize)]
pub struct PackTaken {
    pub exam: String,
    pub version: String,
    pub pack_hash: String,
    pub sealed: bool,
    pub problems: usize,
}

/// A pack as verified on upload.
struct Verified {
    stored: StoredPack,
    sealed: bool,
    problems: usize,
}

/// Verifies `bytes` against `trust` and opens it with `start_code`. Only the clock differs
/// from the app's check: an organizer uploads ahead of the exam, and may upload again
/// after it to re-grade.
fn verify(
    bytes: Vec<u8>,
    trust: &sqlexam_core::pack::Trust,
    start_code: Option<String>,
) -> Result<Verified, PackError> {
    let code = start_code.as_deref();
    let verified = sqlexam_core::pack::verify_in_window(&bytes, trust, code)?;
    let sealed = verified.is_sealed();
    let proctor_key = verified.manifest.proctor_public_key().map(|k| k.to_hex());
    let (exam, version, hash) = (
        verified.manifest.id.clone(),
        verified.manifest.version.clone(),
        verified.hash.clone(),
    );
    let opened = verified.open(code)?;
    let problems = opened.problems.len();
    let outline = Outline {
        problems: opened
            .problems
            .iter()
            .map(|p| OutlineProblem {
                id: p.id.clone(),
                title: p.title.clone(),
                points: p.points,
            })
            .collect(),
        duration_ms: opened.exam.rules.duration_ms,
        roster: opened.exam.roster.is_some(),
    };
    let roster = opened
        .exam
        .roster
        .iter()
        .flat_map(|r| &r.candidates)
        .map(|c| RosterRow {
            candidate: c.candidate.clone(),
            name: c.name.clone(),
            public_key: c.public_key.clone(),
        })
        .collect();
    Ok(Verified {
        stored: StoredPack {
            exam,
            version,
            hash,
            bytes,
            start_code: if sealed { start_code } else { None },
            proctor_key,
            uploaded_at: now(),
            outline,
            roster,
        },
        sealed,
        problems,
    })
}

impl Server {
    /// Takes `bytes` as exam `exam`'s pack. `start_code_hint` names where a sealed pack's
    /// start code is given, for the refusal of one without it.
    pub async fn put_pack(
        &self,
        exam: &str,
        bytes: Vec<u8>,
        start_code: Option<String>,
        start_code_hint: &str,
    ) -> Outcome<PackTaken> {
        let trust = self.trust.clone();
        let checked = blocking(move || verify(bytes, &trust, start_code)).await?;
        let Verified {
            stored,
            sealed,
            problems,
        } = checked.map_err(|e| {
            // Every refusal is about the pack (or its code) as sent.
            let message = match e {
                PackError::Sealed => {
                    format!("{e}: give it in {start_code_hint}, so the server can re-grade")
                }
                _ => e.to_string(),
            };
            Refusal::unacceptable(e.code(), message)
        })?;
        if stored.exam != exam {
            return Err(Refusal::unacceptable(
                "wrong_exam",
                format!(
                    "this is a pack of exam {:?}, uploaded as {exam:?}",
                    stored.exam
                ),
            ));
        }
        if let Err(held) = self.store.put_pack(&stored).await? {
            return Err(Refusal::Conflict {
                code: "equivocation",
                message: format!(
                    "exam {} version {} is already pack {held}; a different pack of the same version is refused — give it a new version",
                    stored.exam, stored.version
                ),
            });
        }
        // Submissions that came before their pack are graded now.
        let requeued = self
            .store
            .requeue_waiting(&stored.hash, WAITING_FOR_PACK)
            .await?;
        if requeued > 0 {
            self.wake.notify_waiters();
        }
        Ok(PackTaken {
            exam: stored.exam,
            version: stored.version,
            pack_hash: stored.hash,
            sealed,
            problems,
        })
    }

    /// What `pack` defines that results need. A pack stored before outlines were kept is
    /// opened again (with its stored start code) and its outline stored; `None` only if it
    /// no longer opens (then said in the server's log).
    pub async fn outline(&self, pack: &PackFacts) -> Outcome<Option<Outline>> {
        if let Some(outline) = &pack.outline {
            return Ok(Some(outline.clone()));
        }
        let Some(bytes) = self.store.pack_bytes(&pack.hash).await? else {
            return Ok(None);
        };
        let (trust, code) = (self.trust.clone(), pack.start_code.clone());
        match blocking(move || verify(bytes, &trust, code)).await? {
            Ok(v) => {
                let outline = v.stored.outline.clone();
                self.store.put_pack(&v.stored).await?.ok();
                Ok(Some(outline))
            }
            Err(e) => {
                eprintln!(
                    "pack {} of exam {} no longer opens, so its problems are not known: {e}",
                    pack.hash, pack.exam
                );
                Ok(None)
            }
        }
    }

    /// Exam `exam`'s newest pack and its bytes.
    pub async fn pack_file(&self, exam: &str) -> Outcome<(PackFacts, Vec<u8>)> {
        let missing = || Refusal::NotFound(format!("the server holds no pack of exam {exam:?}"));
        let pack = self.store.exam_pack(exam).await?.ok_or_else(missing)?;
        let bytes = self
            .store
            .pack_bytes(&pack.hash)
            .await?
            .ok_or_else(missing)?;
        Ok((pack, bytes))
    }

    pub async fn exams(&self) -> Outcome<Vec<ExamRow>> {
        Ok(self.store.exams().await?)
    }
}
