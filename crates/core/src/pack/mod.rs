//! Signed, optionally sealed problem packs (docs/pack-format.md).
//!
//! A pack is one ustar file: `signer.json`, `manifest.json`, `manifest.sig`, then the
//! entries the manifest lists, each with its SHA-256 and size. Reading verifies the signer's
//! trust and the manifest signature before parsing the manifest, then streams every entry
//! against it; any byte out of place is refused. Loaded problems come out as the same
//! [`crate::problem::Problem`] a source folder gives.

mod build;
mod container;
mod contents;
mod exam;
mod ledger;
mod roster;
mod seal;
mod secrets;
mod trust;
mod verify;

use serde::{Deserialize, Serialize};
use time::Duration;

/// The time type verification takes (re-exported so callers need not depend on `time`).
pub use time::OffsetDateTime;

pub use build::{BuildOptions, build};
pub use exam::{Exam, PROCTOR_DOMAIN, ProctorKey, ProctorSigner};
pub use ledger::VersionLedger;
pub use roster::{
    ADMISSION_DOMAIN, Admission, Admitted, Listed, ROSTER_ITERATIONS, Roster, RosterEntry,
    admission_statement, admitted, check_admission, check_listed, generate_admission_code,
};
pub use seal::normalize_start_code;
pub use secrets::{
    MIN_SECRET_BITS, check_strength, estimated_bits, generate_passphrase, generate_start_code,
};
pub use trust::{Anchor, ENDORSEMENT_DOMAIN, Endorsement, Trust, TrustPath};
pub use verify::{
    Pack, PackInfo, ProblemSummary, VerifiedPack, VerifyOptions, signed_manifest, verify,
    verify_in_window, verify_known,
};

use crate::ErrorCode;
use crate::problem::Localized;

/// Domain prefix of manifest signatures: the signed message is this, then manifest.json.
pub const MANIFEST_DOMAIN: &[u8] = b"sqlexam pack manifest v1\n";
/// `format` of manifests this code writes and reads.
pub const FORMAT: &str = "sqlexam-pack/1";
/// How far a machine's clock may be off before a validity window or an expiry bites.
pub const CLOCK_SKEW: Duration = Duration::minutes(15);

/// Size caps, checked before anything is read into memory.
pub const MAX_SIGNER_BYTES: u64 = 64 << 10;
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;
pub const MAX_ENTRIES: usize = 10_000;

/// The signed description of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub id: String,
    /// Semver.
    pub version: String,
    pub title: Localized,
    /// RFC 3339 UTC times.
    pub created: String,
    pub not_before: String,
    pub not_after: String,
    /// Key id of the signing key, whose public key and endorsements are in `signer.json`.
    pub signer: String,
    /// SHA-256 of `signer.json`, binding it to this signature.
    pub signer_sha256: String,
    /// The proctor's public key and how it is derived from the passphrase; absent when the
    /// pack allows no proctor actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proctor: Option<ProctorKey>,
    /// Present when the pack is sealed with a start code.
    pub seal: Option<SealParams>,
    pub grader: GraderInfo,
    pub entries: Vec<EntryMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealParams {
    /// "pbkdf2-hmac-sha256"
    pub kdf: String,
    pub iterations: u32,
    /// Hex, 16 bytes.
    pub salt: String,
    /// "aes-256-gcm-segments-1m"
    pub cipher: String,
    /// Hex, 16 bytes: tells a wrong start code from entries that do not decrypt
    /// (docs/pack-format.md). Absent in packs built before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_check: Option<String>,
}

/// The grader that built the pack (and ran the reference solutions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraderInfo {
    pub grader_version: String,
    pub sqlite_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryMeta {
    pub path: String,
    /// Bytes in the container (ciphertext and tag when sealed).
    pub size: u64,
    /// SHA-256 (hex) of the bytes in the container.
    pub sha256: String,
    pub sealed: bool,
}

impl Manifest {
    /// The key proctor records are checked with; `None` when the pack allows no proctor
    /// actions.
    pub fn proctor_public_key(&self) -> Option<crate::crypto::PublicKey> {
        self.proctor.as_ref().and_then(ProctorKey::public)
    }
}

/// `signer.json`: the signing key and the endorsements that make it trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerFile {
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub endorsements: Vec<Endorsement>,
}

/// Why a pack, key or endorsement was refused. Each message names what is wrong and where;
/// its [`ErrorCode::code`] is stable for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    #[error("{0}")]
    Key(String),
    #[error("not a sqlexam pack: {0}")]
    NotAPack(String),
    #[error("the pack is damaged at byte {offset}: {what}")]
    Damaged { offset: u64, what: String },
    #[error("the pack ends early at byte {offset}: it is truncated")]
    Truncated { offset: u64 },
    #[error("entry {path}: {what}")]
    Entry { path: String, what: String },
    #[error("entry {path} was altered: it does not match the signed manifest's size and SHA-256")]
    Altered { path: String },
    #[error(
        "the manifest signature does not verify: the pack was altered or not signed by key {key_id}"
    )]
    BadSignature { key_id: String },
    #[error("the pack is signed by key {key_id}, which is not trusted here")]
    UntrustedKey { key_id: String },
    #[error("key {key_id} ({name}) has been revoked")]
    RevokedKey { key_id: String, name: String },
    #[error("the endorsement of key {key_id} by {by} expired at {until}")]
    ExpiredEndorsement {
        key_id: String,
        by: String,
        until: String,
    },
    #[error("the pack is not valid before {not_before}")]
    NotYetValid { not_before: String },
    #[error("the pack expired at {not_after}")]
    Expired { not_after: String },
    #[error(
        "pack {id} version {version} is older than version {seen}, already used on this machine"
    )]
    Downgrade {
        id: String,
        version: String,
        seen: String,
    },
    #[error(
        "pack {id} version {version} differs from the pack of the same version already used on this machine (sha256:{seen_hash}): one version must be one pack"
    )]
    Equivocation {
        id: String,
        version: String,
        seen_hash: String,
    },
    #[error("the manifest is invalid: {0}")]
    Manifest(String),
    #[error("the pack is sealed: the start code is needed to open it")]
    Sealed,
    #[error("the start code is wrong")]
    WrongStartCode,
    #[error(
        "the start code is right, but entry {path} does not decrypt: the pack is damaged or was built wrongly; get a fresh copy from the organizer"
    )]
    Undecryptable { path: String },
    #[error("the pack's contents are invalid: {0}")]
    Contents(String),
    #[error("cannot read the pack: {0}")]
    Io(String),
}

impl From<crate::crypto::KeyError> for PackError {
    fn from(e: crate::crypto::KeyError) -> Self {
        PackError::Key(e.0)
    }
}

/// A stable code for each kind of refusal (the UI translates by it).
impl ErrorCode for PackError {
    fn code(&self) -> &'static str {
        match self {
            PackError::Key(_) => "key",
            PackError::NotAPack(_) => "not_a_pack",
            PackError::Damaged { .. } => "damaged",
            PackError::Truncated { .. } => "truncated",
            PackError::Entry { .. } => "entry",
            PackError::Altered { .. } => "altered",
            PackError::BadSignature { .. } => "bad_signature",
            PackError::UntrustedKey { .. } => "untrusted_key",
            PackError::RevokedKey { .. } => "revoked_key",
            PackError::ExpiredEndorsement { .. } => "expired_endorsement",
            PackError::NotYetValid { .. } => "not_yet_valid",
            PackError::Expired { .. } => "expired",
            PackError::Downgrade { .. } => "downgrade",
            PackError::Equivocation { .. } => "equivocation",
            PackError::Manifest(_) => "manifest",
            PackError::Sealed => "sealed",
            PackError::WrongStartCode => "wrong_start_code",
            PackError::Undecryptable { .. } => "undecryptable",
            PackError::Contents(_) => "contents",
            PackError::Io(_) => "io",
        }
    }
}

/// Entry paths: `/`-separated components of `a-z 0-9 . _ -`, none starting with `.`, `_`
/// or `-`, at most 100 bytes (one ustar name field). This excludes absolute paths, `..`,
/// backslashes and case-folding twins by construction.
pub(crate) fn valid_entry_path(path: &str) -> bool {
    path.len() <= 100
        && !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::valid_entry_path;

    #[test]
    fn entry_paths_are_plain_relative_lowercase() {
        assert!(valid_entry_path("problems/01/datasets/02.db"));
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "A.json",
            ".hidden",
            "a\\b",
            "",
            "a/",
            "é",
        ] {
            assert!(!valid_entry_path(bad), "{bad:?} must be refused");
        }
        assert!(!valid_entry_path(&"a".repeat(101)));
    }
}
