//! Building a pack from loaded problems: contents → (sealed) entries → manifest → signature
//! → canonical ustar. Deterministic: the same problems, key and options give the same bytes
//! (Ed25519 signatures are deterministic; the seal salt is derived, not drawn).

use time::OffsetDateTime;

use super::container::Writer;
use super::contents::to_entries;
use super::exam::{Exam, ProctorKey};
use super::seal::{
    CIPHER, ITERATIONS, KDF, MIN_START_CODE, SealKey, derive_salt, normalize_start_code,
};
use super::trust::Endorsement;
use super::{
    EntryMeta, FORMAT, GraderInfo, MANIFEST_DOMAIN, Manifest, PackError, SealParams, SignerFile,
};
use crate::crypto::{SigningKey, sha256};
use crate::encoding::{format_time, hex};
use crate::problem::{ExamRules, Localized, Problem};

pub struct BuildOptions<'a> {
    pub key: &'a SigningKey,
    /// Endorsements that make `key` trusted (none if it is an anchor itself).
    pub endorsements: Vec<Endorsement>,
    /// Seal everything but the manifest with this start code.
    pub start_code: Option<String>,
    /// Exam duration and clock policy (from `pack.toml`'s `[exam]`).
    pub exam: ExamRules,
    /// The passphrase that authorizes proctor actions; only the public half of the key
    /// derived from it is stored.
    pub proctor_passphrase: Option<String>,
    /// Who may sit, each with their admission code (same order): only the public half of
    /// each code's key is stored.
    pub roster: Option<(Vec<super::Listed>, Vec<String>)>,
    pub created: OffsetDateTime,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// The bytes of a signed pack holding `problems`.
pub fn build(
    id: &str,
    version: &semver::Version,
    title: &Localized,
    problems: &[Problem],
    options: &BuildOptions<'_>,
) -> Result<Vec<u8>, PackError> {
    if options.not_after <= options.not_before {
        return Err(PackError::Manifest(
            "not_after must be later than not_before".into(),
        ));
    }
    if options.exam.while_closed == crate::problem::WhileClosed::Paused
        && options.proctor_passphrase.is_none()
    {
        return Err(PackError::Key(
            "this exam's clock pauses while the app is closed, and only a proctor can resume it: give a proctor passphrase \
             (or set while_closed = \"running\" in pack.toml's [exam])"
                .into(),
        ));
    }
    let version_text = version.to_string();
    let proctor = match &options.proctor_passphrase {
        None => None,
        Some(p) => {
            let salt = derive_salt(
                &options.key.secret_digest(),
                id,
                &version_text,
                b"proctor passphrase",
            );
            Some(ProctorKey::from_passphrase(p, &salt)?)
        }
    };
    let roster = match &options.roster {
        None => None,
        Some((listed, codes)) => {
            let salt = derive_salt(
                &options.key.secret_digest(),
                id,
                &version_text,
                b"roster admission codes",
            );
            Some(super::Roster::build(listed, codes, &salt)?)
        }
    };
    let plain = to_entries(
        &Exam {
            rules: options.exam,
            roster,
            proctor: None,
        },
        problems,
    );
    let seal = match &options.start_code {
        None => None,
        Some(code) => {
            if normalize_start_code(code).chars().count() < MIN_START_CODE {
                return Err(PackError::Key(format!(
                    "the start code must have at least {MIN_START_CODE} letters or digits (spaces and hyphens do not count)"
                )));
            }
            let mut digest = Vec::new();
            for (path, data) in &plain {
                digest.extend_from_slice(path.as_bytes());
                digest.extend_from_slice(&sha256(data));
            }
            let salt = derive_salt(
                &options.key.secret_digest(),
                id,
                &version_text,
                &sha256(&digest),
            );
            Some((SealKey::derive(code, &salt, ITERATIONS)?, salt))
        }
    };
    let mut stored = Vec::with_capacity(plain.len());
    for (index, (path, data)) in plain.into_iter().enumerate() {
        let bytes = match &seal {
            Some((key, _)) => key.seal(index, id, &version_text, &path, data),
            None => data,
        };
        stored.push((path, bytes));
    }

    let signer = SignerFile {
        public_key: options.key.public().to_hex(),
        endorsements: options.endorsements.clone(),
    };
    let signer_bytes = serde_json::to_vec_pretty(&signer).unwrap_or_default();
    let manifest = Manifest {
        format: FORMAT.into(),
        id: id.into(),
        version: version_text,
        title: title.clone(),
        created: format_time(options.created),
        not_before: format_time(options.not_before),
        not_after: format_time(options.not_after),
        signer: options.key.public().key_id(),
        signer_sha256: hex(&sha256(&signer_bytes)),
        proctor,
        seal: seal.as_ref().map(|(key, salt)| SealParams {
            kdf: KDF.into(),
            iterations: ITERATIONS,
            salt: hex(salt),
            cipher: CIPHER.into(),
            key_check: Some(hex(&key.check)),
        }),
        grader: GraderInfo {
            grader_version: crate::GRADER_VERSION.into(),
            sqlite_version: crate::sqlite_version().into(),
        },
        entries: stored
            .iter()
            .map(|(path, data)| EntryMeta {
                path: path.clone(),
                size: data.len() as u64,
                sha256: hex(&sha256(data)),
                sealed: seal.is_some(),
            })
            .collect(),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let signature = options.key.sign(MANIFEST_DOMAIN, &manifest_bytes);

    let mut out = Writer::default();
    out.add("signer.json", &signer_bytes)?;
    out.add("manifest.json", &manifest_bytes)?;
    out.add("manifest.sig", &signature)?;
    for (path, data) in &stored {
        out.add(path, data)?;
    }
    Ok(out.finish())
}
