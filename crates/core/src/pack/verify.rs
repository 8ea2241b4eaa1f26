//! Verifying and opening a pack. Order matters: the signer's trust is established and the
//! manifest's signature checked over its exact bytes before the manifest is parsed; then
//! every entry is streamed, size-capped and hashed against the manifest; an entry is
//! decrypted only once its hash matched, and contents are parsed into problems only after
//! every entry and the end of the archive were verified.

use std::io::Read;
use std::sync::mpsc;

use serde::Serialize;
use time::OffsetDateTime;

use super::container::Reader;
use super::contents::{CONTENTS_PATH, from_entries};
use super::exam::Exam;
use super::ledger::VersionLedger;
use super::seal::{CIPHER, ITERATIONS, KDF, MAX_ITERATIONS, SealKey, normalize_start_code};
use super::trust::{Trust, TrustPath};
use super::{
    CLOCK_SKEW, FORMAT, MANIFEST_DOMAIN, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_MANIFEST_BYTES,
    MAX_SIGNER_BYTES, MAX_TOTAL_BYTES, Manifest, PackError, SealParams, SignerFile,
    valid_entry_path,
};
use crate::crypto::{PublicKey, sha256};
use crate::encoding::{hex, parse_time, unhex};
use crate::problem::{Localized, Problem};

/// What a verifier knows and trusts.
pub struct VerifyOptions<'a> {
    pub trust: &'a Trust,
    /// The machine's clock.
    pub now: OffsetDateTime,
    /// Versions of packs already accepted here (rollback protection), if kept.
    pub ledger: Option<&'a VersionLedger>,
    /// The start code, when it is already known: the (deliberately slow) key derivation
    /// then runs on another thread while the entries are verified, and that thread
    /// decrypts each entry once its hash matched, so `open` only parses.
    pub start_code: Option<&'a str>,
}

/// Entries as (path, bytes), in container order.
type Entries = Vec<(String, Vec<u8>)>;

/// A pack whose signature, trust, window, version and every entry have been checked.
pub struct VerifiedPack {
    pub manifest: Manifest,
    /// SHA-256 of the signed manifest: identifies the pack's exact contents.
    pub hash: String,
    pub trust_path: TrustPath,
    /// The plaintext of an unsealed pack; the ciphertext of a sealed one, unless `derived`
    /// says they were decrypted while verifying.
    entries: Entries,
    /// The seal key derived from `VerifyOptions::start_code`, if any.
    derived: Option<Derived>,
}

/// The seal key derived while verifying, and what was done with it.
struct Derived {
    /// The start code it was derived from, normalized.
    code: String,
    key: SealKey,
    unsealing: Unsealing,
}

/// What became of a sealed pack's entries while verifying.
enum Unsealing {
    /// Left as ciphertext: the key's check value did not match the manifest's (a wrong
    /// code, which may be corrected) or the pack has none (a wrong code and a damaged pack
    /// look alike, so the ciphertext is kept for another code).
    Sealed,
    /// Decrypted in place with a key known to be right.
    Opened,
    /// This entry did not decrypt although the key is known to be right.
    Undecryptable(String),
}

/// What anyone may see of a pack, sealed or not.
#[derive(Debug, Clone, Serialize)]
pub struct PackInfo {
    pub id: String,
    pub version: String,
    pub title: Localized,
    pub hash: String,
    pub signer: String,
    pub trust_path: TrustPath,
    pub created: String,
    pub not_before: String,
    pub not_after: String,
    pub sealed: bool,
    pub entries: usize,
    pub bytes: u64,
    pub grader_version: String,
    pub sqlite_version: String,
    /// Listed only once the pack is open (unsealed, or with the start code).
    pub problems: Option<Vec<ProblemSummary>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemSummary {
    pub id: String,
    pub title: Localized,
    pub points: u32,
    pub datasets: usize,
}

/// An opened pack: its exam rules and problems, ready to grade.
pub struct Pack {
    pub info: PackInfo,
    pub exam: Exam,
    pub problems: Vec<Problem>,
}

fn manifest_error(msg: impl Into<String>) -> PackError {
    PackError::Manifest(msg.into())
}

/// Verifies a pack as of a moment inside its validity window (the clock clamped into it):
/// for those who check a pack outside the exam — an organizer uploading it ahead of time or
/// re-grading after, anyone checking a bundle against it — not for starting a session.
pub fn verify_in_window(
    bytes: &[u8],
    trust: &Trust,
    start_code: Option<&str>,
) -> Result<VerifiedPack, PackError> {
    let (manifest, _) = signed_manifest(bytes)?;
    let window = |t: &str| crate::encoding::parse_time(t);
    let now = OffsetDateTime::now_utc();
    let now = match (window(&manifest.not_before), window(&manifest.not_after)) {
        (Some(from), Some(to)) if from <= to => now.clamp(from, to),
        _ => now,
    };
    verify(
        bytes,
        &VerifyOptions {
            trust,
            now,
            ledger: None,
            start_code,
        },
    )
}

/// Verifies a pack read from `input`.
pub fn verify(input: impl Read, options: &VerifyOptions<'_>) -> Result<VerifiedPack, PackError> {
    let mut reader = Reader::new(input);
    let (signer, signer_key, signer_bytes) = read_signer(&mut reader)?;
    let trust_path = options
        .trust
        .resolve(&signer_key, &signer.endorsements, options.now)?;
    // Only a trusted signer's manifest is read, and parsed only once its signature holds.
    let (manifest, manifest_bytes) = read_signed_manifest(&mut reader, &signer_key)?;
    let hash = hex(&sha256(&manifest_bytes));
    check_manifest(&manifest, &hash, &signer_key, &signer_bytes, options)?;

    let (read, entries, unsealed) = std::thread::scope(|scope| {
        let (to_unseal, unsealer) = match (&manifest.seal, options.start_code) {
            (Some(seal), Some(code)) => {
                let (to_unseal, verified) = mpsc::channel();
                let manifest = &manifest;
                let unsealer = scope.spawn(move || unseal(manifest, seal, code, verified));
                (Some(to_unseal), Some(unsealer))
            }
            _ => (None, None),
        };
        let mut entries = Vec::with_capacity(manifest.entries.len());
        let read = read_entries(
            &mut reader,
            &manifest,
            |index, path, data| match &to_unseal {
                Some(to_unseal) => {
                    // The unsealer only stops early by panicking, which `join` reports.
                    let _ = to_unseal.send((index, path, data));
                }
                None => entries.push((path, data)),
            },
        );
        drop(to_unseal);
        let unsealed = unsealer.map(|unsealer| {
            unsealer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (read, entries, unsealed)
    });
    read?;
    let (entries, derived) = match unsealed.transpose()? {
        Some((derived, unsealed)) => (unsealed, Some(derived)),
        None => (entries, None),
    };
    Ok(VerifiedPack {
        hash,
        manifest,
        trust_path,
        entries,
        derived,
    })
}

/// The unsealing thread, when the start code is known up front: derives the key (slow on
/// purpose) while the entries stream, then decrypts each entry it is handed — only entries
/// whose size and hash matched the manifest are — while the next ones are read.
fn unseal(
    manifest: &Manifest,
    seal: &SealParams,
    code: &str,
    verified: mpsc::Receiver<(usize, String, Vec<u8>)>,
) -> Result<(Derived, Entries), PackError> {
    let salt = unhex(&seal.salt).unwrap_or_default();
    // The derivation runs on a thread of its own at a lower priority: reading and hashing
    // decide when verification ends, so they get the cores first and the derivation the
    // time left over (it finishes about when the hashing does).
    let key = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                crate::platform::yield_to_other_threads();
                SealKey::derive(code, &salt, seal.iterations)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    let mut unsealing = match &seal.key_check {
        Some(check) if *check == hex(&key.check) => Unsealing::Opened,
        _ => Unsealing::Sealed,
    };
    let mut entries = Vec::with_capacity(manifest.entries.len());
    for (index, path, data) in verified {
        match unsealing {
            Unsealing::Sealed => entries.push((path, data)),
            Unsealing::Opened => {
                match key.open(index, &manifest.id, &manifest.version, &path, data) {
                    Some(plain) => entries.push((path, plain)),
                    None => unsealing = Unsealing::Undecryptable(path),
                }
            }
            // `open` refuses the pack: the rest need not be kept.
            Unsealing::Undecryptable(_) => {}
        }
    }
    let derived = Derived {
        code: normalize_start_code(code),
        key,
        unsealing,
    };
    Ok((derived, entries))
}

/// Streams every entry the manifest lists, handing each to `verified` (with its index)
/// once its size and SHA-256 matched, then insists on the end of the archive.
fn read_entries<R: Read>(
    reader: &mut Reader<R>,
    manifest: &Manifest,
    mut verified: impl FnMut(usize, String, Vec<u8>),
) -> Result<(), PackError> {
    for (index, meta) in manifest.entries.iter().enumerate() {
        let entry = reader
            .next(Some(&meta.path), meta.size)?
            .ok_or_else(|| PackError::Entry {
                path: meta.path.clone(),
                what: "is missing: the pack ends before it".into(),
            })?;
        if entry.data.len() as u64 != meta.size || hex(&entry.sha256) != meta.sha256 {
            return Err(PackError::Altered { path: entry.path });
        }
        verified(index, entry.path, entry.data);
    }
    if let Some(extra) = reader.next(None, MAX_ENTRY_BYTES)? {
        return Err(PackError::Entry {
            path: extra.path,
            what: "is not listed in the manifest".into(),
        });
    }
    Ok(())
}

/// Verifies a pack already accepted once (a copy kept by the session engine): it must be
/// the pack with `expected_hash`, intact and signed by the key its own signer.json names.
/// Today's trust store is not consulted — the pack was trusted when the session started —
/// and the validity window is checked as of `then` (the session's start).
pub fn verify_known(
    input: &[u8],
    expected_hash: &str,
    then: OffsetDateTime,
    start_code: Option<&str>,
) -> Result<VerifiedPack, PackError> {
    let (_, key, _) = read_signer(&mut Reader::new(input))?;
    let trust = Trust {
        anchors: vec![super::trust::Anchor::new(&key, "the session's pack signer")],
        revoked: Vec::new(),
    };
    let verified = verify(
        input,
        &VerifyOptions {
            trust: &trust,
            now: then,
            ledger: None,
            start_code,
        },
    )?;
    if verified.hash != expected_hash {
        return Err(PackError::Manifest(
            "this is not the pack the session started with".into(),
        ));
    }
    Ok(verified)
}

/// The signed manifest of a pack and its hash, checked against the key its own signer.json
/// names, without trust and without reading the entries (from a file, only its head is
/// read): enough to learn what a pack says about itself (its proctor key) once its hash is
/// known to be the expected one.
pub fn signed_manifest(input: impl Read) -> Result<(Manifest, String), PackError> {
    let mut reader = Reader::new(input);
    let (_, key, signer_bytes) = read_signer(&mut reader)?;
    let (manifest, manifest_bytes) = read_signed_manifest(&mut reader, &key)?;
    if manifest.signer_sha256 != hex(&sha256(&signer_bytes)) {
        return Err(manifest_error(
            "it names another signer than signer.json holds",
        ));
    }
    Ok((manifest, hex(&sha256(&manifest_bytes))))
}

/// The first entry, `signer.json`: the signer file, its key and its exact bytes.
fn read_signer<R: Read>(
    reader: &mut Reader<R>,
) -> Result<(SignerFile, PublicKey, Vec<u8>), PackError> {
    let bytes = expect(reader, "signer.json", MAX_SIGNER_BYTES)?;
    let signer: SignerFile = serde_json::from_slice(&bytes)
        .map_err(|e| PackError::NotAPack(format!("signer.json does not parse: {e}")))?;
    let key = PublicKey::from_hex(&signer.public_key)
        .ok_or_else(|| PackError::NotAPack("signer.json holds no Ed25519 public key".into()))?;
    Ok((signer, key, bytes))
}

/// The next two entries, `manifest.json` and `manifest.sig`: the manifest is parsed only
/// after its signature by `key` verifies. Returns it with its exact bytes.
fn read_signed_manifest<R: Read>(
    reader: &mut Reader<R>,
    key: &PublicKey,
) -> Result<(Manifest, Vec<u8>), PackError> {
    let bytes = expect(reader, "manifest.json", MAX_MANIFEST_BYTES)?;
    let signature = expect(reader, "manifest.sig", 64)?;
    if !key.verify(MANIFEST_DOMAIN, &bytes, &signature) {
        return Err(PackError::BadSignature {
            key_id: key.key_id(),
        });
    }
    let manifest = serde_json::from_slice(&bytes)
        .map_err(|e| manifest_error(format!("it does not parse: {e}")))?;
    Ok((manifest, bytes))
}

/// The next entry, which must be `name`.
fn expect<R: Read>(reader: &mut Reader<R>, name: &str, cap: u64) -> Result<Vec<u8>, PackError> {
    match reader.next(Some(name), cap) {
        Ok(Some(e)) => Ok(e.data),
        Ok(None) => Err(PackError::NotAPack(format!("no {name}"))),
        Err(PackError::Entry { path, .. }) if path != name => Err(PackError::NotAPack(format!(
            "found entry {path} where {name} belongs"
        ))),
        Err(e) => Err(e),
    }
}

fn check_manifest(
    m: &Manifest,
    hash: &str,
    signer: &PublicKey,
    signer_bytes: &[u8],
    o: &VerifyOptions<'_>,
) -> Result<(), PackError> {
    if m.format != FORMAT {
        return Err(manifest_error(format!(
            "unknown format {:?} (this version reads {FORMAT})",
            m.format
        )));
    }
    if m.signer != signer.key_id() || m.signer_sha256 != hex(&sha256(signer_bytes)) {
        return Err(manifest_error(
            "it names another signer than signer.json holds",
        ));
    }
    let version = semver::Version::parse(&m.version)
        .map_err(|_| manifest_error(format!("version {:?} is not semver", m.version)))?;
    let time = |field: &str, text: &str| {
        parse_time(text)
            .ok_or_else(|| manifest_error(format!("{field} {text:?} is not an RFC 3339 time")))
    };
    let (not_before, not_after) = (
        time("not_before", &m.not_before)?,
        time("not_after", &m.not_after)?,
    );
    time("created", &m.created)?;
    if o.now + CLOCK_SKEW < not_before {
        return Err(PackError::NotYetValid {
            not_before: m.not_before.clone(),
        });
    }
    if o.now > not_after + CLOCK_SKEW {
        return Err(PackError::Expired {
            not_after: m.not_after.clone(),
        });
    }
    if let Some(seen) = o
        .ledger
        .and_then(|l| l.highest(&m.id))
        .filter(|seen| &version < seen)
    {
        return Err(PackError::Downgrade {
            id: m.id.clone(),
            version: m.version.clone(),
            seen: seen.to_string(),
        });
    }
    if let Some(seen_hash) = o
        .ledger
        .and_then(|l| l.hash_of(&m.id, &version))
        .filter(|seen| *seen != hash)
    {
        return Err(PackError::Equivocation {
            id: m.id.clone(),
            version: m.version.clone(),
            seen_hash: seen_hash.to_owned(),
        });
    }
    if let Some(p) = &m.proctor {
        let salt_ok = unhex(&p.salt).is_some_and(|s| s.len() == 16);
        if p.kdf != KDF
            || !(ITERATIONS..=MAX_ITERATIONS).contains(&p.iterations)
            || !salt_ok
            || p.public().is_none()
        {
            return Err(manifest_error(
                "its proctor key has an unknown KDF, iteration count, salt or public key",
            ));
        }
    }
    if m.entries.is_empty() || m.entries.len() > MAX_ENTRIES {
        return Err(manifest_error(format!(
            "it lists {} entries (1 to {MAX_ENTRIES} allowed)",
            m.entries.len()
        )));
    }
    let mut total = 0u64;
    let mut folded = std::collections::HashSet::new();
    for e in &m.entries {
        if !valid_entry_path(&e.path)
            || ["signer.json", "manifest.json", "manifest.sig"].contains(&e.path.as_str())
        {
            return Err(manifest_error(format!(
                "entry name {:?} is not allowed",
                e.path
            )));
        }
        if !folded.insert(e.path.to_lowercase()) {
            return Err(manifest_error(format!(
                "entry {} is listed twice (or differs only in case)",
                e.path
            )));
        }
        if e.size > MAX_ENTRY_BYTES || e.sha256.len() != 64 || unhex(&e.sha256).is_none() {
            return Err(manifest_error(format!(
                "entry {} has an invalid size or hash",
                e.path
            )));
        }
        if e.sealed != m.seal.is_some() {
            return Err(manifest_error(format!(
                "entry {} does not follow the pack's sealing",
                e.path
            )));
        }
        total += e.size;
    }
    if total > MAX_TOTAL_BYTES {
        return Err(manifest_error(format!(
            "its entries add up to {total} bytes, more than {MAX_TOTAL_BYTES}"
        )));
    }
    if let Some(s) = &m.seal {
        if s.cipher == "aes-256-gcm" {
            return Err(manifest_error(
                "it was sealed by an earlier sqlexam (aes-256-gcm per entry): build it again with this version",
            ));
        }
        let salt_ok = unhex(&s.salt).is_some_and(|b| b.len() == 16);
        if s.kdf != KDF
            || s.cipher != CIPHER
            || !(ITERATIONS..=MAX_ITERATIONS).contains(&s.iterations)
            || !salt_ok
        {
            return Err(manifest_error("its seal parameters are not supported"));
        }
    }
    Ok(())
}

impl VerifiedPack {
    pub fn is_sealed(&self) -> bool {
        self.manifest.seal.is_some()
    }

    /// The public description (no problem list: that is inside the sealed contents).
    pub fn info(&self) -> PackInfo {
        let m = &self.manifest;
        PackInfo {
            id: m.id.clone(),
            version: m.version.clone(),
            title: m.title.clone(),
            hash: self.hash.clone(),
            signer: m.signer.clone(),
            trust_path: self.trust_path.clone(),
            created: m.created.clone(),
            not_before: m.not_before.clone(),
            not_after: m.not_after.clone(),
            sealed: self.is_sealed(),
            entries: m.entries.len(),
            bytes: m.entries.iter().map(|e| e.size).sum(),
            grader_version: m.grader.grader_version.clone(),
            sqlite_version: m.grader.sqlite_version.clone(),
            problems: None,
        }
    }

    /// Opens the pack: decrypts it with `start_code` if it is sealed, and loads its problems.
    pub fn open(self, start_code: Option<&str>) -> Result<Pack, PackError> {
        let mut info = self.info();
        let m = &self.manifest;
        let plain: Entries = match &m.seal {
            None => self.entries,
            Some(seal) => {
                let code = start_code.ok_or(PackError::Sealed)?;
                let derive = || {
                    SealKey::derive(
                        code,
                        &unhex(&seal.salt).unwrap_or_default(),
                        seal.iterations,
                    )
                };
                let (key, unsealing) = match self.derived {
                    Some(d) if d.code == normalize_start_code(code) => (d.key, d.unsealing),
                    // Entries decrypted with the key of another code stay valid only if
                    // this code's key is that key: the check value below decides.
                    Some(d) => (derive()?, d.unsealing),
                    None => (derive()?, Unsealing::Sealed),
                };
                let code_checked = match &seal.key_check {
                    Some(check) if *check != hex(&key.check) => {
                        return Err(PackError::WrongStartCode);
                    }
                    Some(_) => true,
                    None => false,
                };
                match unsealing {
                    Unsealing::Opened => self.entries,
                    Unsealing::Undecryptable(path) => {
                        return Err(PackError::Undecryptable { path });
                    }
                    Unsealing::Sealed => {
                        let mut out = Vec::with_capacity(self.entries.len());
                        for (index, (path, data)) in self.entries.into_iter().enumerate() {
                            match key.open(index, &m.id, &m.version, &path, data) {
                                Some(plain) => out.push((path, plain)),
                                // Every entry's bytes were verified: with the code known
                                // to be right, the pack was built wrongly; without a check
                                // value (older packs), the code is the likelier cause.
                                None if code_checked => {
                                    return Err(PackError::Undecryptable { path });
                                }
                                None => return Err(PackError::WrongStartCode),
                            }
                        }
                        out
                    }
                }
            }
        };
        if plain.first().map(|(p, _)| p.as_str()) != Some(CONTENTS_PATH) {
            return Err(PackError::Contents(format!(
                "the first entry must be {CONTENTS_PATH}"
            )));
        }
        let (mut exam, problems) = from_entries(plain.into_iter().collect())?;
        if let Some(roster) = &exam.roster {
            roster.check()?;
        }
        exam.proctor = m.proctor.clone();
        info.problems = Some(
            problems
                .iter()
                .map(|p| ProblemSummary {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    points: p.points,
                    datasets: p.datasets.len(),
                })
                .collect(),
        );
        Ok(Pack {
            info,
            exam,
            problems,
        })
    }
}
