//! The packs the engine keeps: a copy of each session's pack beside the store, verified
//! again (against the signer it was accepted from) whenever it is loaded, the version
//! ledger, and the proctor key a pack names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::store::SessionPack;
use super::{Inner, SessionError, lock};
use crate::crypto::PublicKey;
use crate::pack::{Exam, PackInfo, ProctorKey, ProctorSigner, VersionLedger};
use crate::problem::Problem;
use crate::record::PackRef;

pub(super) struct LoadedPack {
    pub(super) info: PackInfo,
    pub(super) exam: Exam,
    pub(super) problems: Vec<Problem>,
}

impl LoadedPack {
    /// The pack as records name it.
    pub(super) fn pack_ref(&self) -> PackRef {
        PackRef {
            id: self.info.id.clone(),
            version: self.info.version.clone(),
            hash: self.info.hash.clone(),
        }
    }
}

impl Inner {
    /// The wall clock as a time value (for pack validity windows).
    pub(super) fn now(&self) -> Result<time::OffsetDateTime, SessionError> {
        time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.clock.wall_ms()) * 1_000_000,
        )
        .map_err(|e| SessionError::Invalid(e.to_string()))
    }

    pub(super) fn ledger(&self) -> Result<VersionLedger, SessionError> {
        VersionLedger::open(&self.dir.join("pack-versions.json"))
            .map_err(|e| SessionError::store("the ledger of pack versions", e))
    }

    /// Loads (verifies and opens) the pack a session uses, from the store's copy.
    pub(super) fn pack_of(&self, session: &str) -> Result<Arc<LoadedPack>, SessionError> {
        let SessionPack {
            hash,
            start_code: code,
            created_wall_ms: created,
        } = lock(&self.store).session_pack(session)?;
        if let Some(p) = lock(&self.packs).get(&hash) {
            return Ok(p.clone());
        }
        let path = self.pack_path(&hash);
        let bytes = std::fs::read(&path).map_err(|e| SessionError::pack(path.display(), e))?;
        // The copy is untrusted like the rest of the store: verify it again — against the
        // signer it was accepted from (today's trust store may have changed since) and as of
        // the session's start (an exam must not die when its pack expires mid-session).
        let then = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(created) * 1_000_000)
            .map_err(|e| SessionError::Damaged(e.to_string()))?;
        let verified = crate::pack::verify_known(&bytes, &hash, then, code.as_deref())
            .map_err(|e| SessionError::Tampered(format!("{}: {e}", path.display())))?;
        let pack = verified
            .open(code.as_deref())
            .map_err(|e| SessionError::pack("the pack kept with the session", e))?;
        let loaded = Arc::new(LoadedPack {
            info: pack.info,
            exam: pack.exam,
            problems: pack.problems,
        });
        lock(&self.packs).insert(hash, loaded.clone());
        Ok(loaded)
    }

    pub(super) fn pack_path(&self, hash: &str) -> PathBuf {
        copy_path(&self.dir, hash)
    }

    pub(super) fn pack_problem(
        &self,
        session: &str,
        problem: &str,
    ) -> Result<Arc<LoadedPack>, SessionError> {
        let pack = self.pack_of(session)?;
        if pack.problems.iter().any(|p| p.id == problem) {
            Ok(pack)
        } else {
            Err(SessionError::NoProblem(problem.into()))
        }
    }

    /// The proctor's signing key for a session's pack, if `passphrase` is the proctor's.
    pub(super) fn proctor_signer(
        &self,
        session: &str,
        passphrase: &str,
    ) -> Result<ProctorSigner, SessionError> {
        let pack = self.pack_of(session)?;
        let key = pack.exam.proctor.as_ref().ok_or(SessionError::NoProctor)?;
        key.unlock(passphrase).ok_or(SessionError::WrongPassphrase)
    }
}

/// Where the engine in `dir` keeps its copy of pack `hash` (a file: packs can be larger
/// than a row).
fn copy_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join("packs").join(format!("{hash}.sqlexam"))
}

/// The proctor key the signed manifest of the engine's copy of pack `hash` names, if the
/// copy is that pack: `Some(None)` when it allows no proctor actions. Reads only the
/// file's head.
pub(super) fn kept_proctor_key(dir: &Path, hash: &str) -> Option<Option<PublicKey>> {
    kept_proctor(dir, hash).map(|key| key.as_ref().and_then(ProctorKey::public))
}

/// The proctor key (with how to derive it from the passphrase) of the engine's copy of pack
/// `hash`, if the copy is that pack (`Some(None)`: it allows no proctor actions): what signs
/// a proctor's results bundle.
pub fn kept_proctor(dir: &Path, hash: &str) -> Option<Option<ProctorKey>> {
    let file = std::fs::File::open(copy_path(dir, hash)).ok()?;
    let (manifest, found) = crate::pack::signed_manifest(std::io::BufReader::new(file)).ok()?;
    (found == hash).then_some(manifest.proctor)
}
