//! What this machine has accepted of each pack: its highest version, so an older one is
//! refused (rollback), and the hash of the pack accepted at each version, so a second,
//! different pack of the same id and version is refused (equivocation: a signing key
//! showing different venues different exams). Versions that differ only in build metadata
//! (`1.1.0+rebuild`) have the same precedence and count as the same version.
//! A candidate can edit this file; that is why every result record also names the pack's
//! hash and version and the server enforces one pack per exam too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PackError;

/// One pack id's history on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    highest: String,
    /// Version without build metadata → hash (hex SHA-256 of the signed manifest).
    hashes: BTreeMap<String, String>,
}

/// The file: `{"packs": {id: {"highest": v, "hashes": {v: hash}}}}`. Files written before
/// hashes were kept (`{id: version}`) are read too, with no hashes.
#[derive(Deserialize)]
#[serde(untagged)]
enum LedgerFile {
    Current { packs: BTreeMap<String, Seen> },
    Versions(BTreeMap<String, String>),
}

pub struct VersionLedger {
    path: PathBuf,
    seen: BTreeMap<String, Seen>,
}

/// The key of a version's precedence: build metadata dropped.
fn precedence_key(version: &semver::Version) -> String {
    let mut v = version.clone();
    v.build = semver::BuildMetadata::EMPTY;
    v.to_string()
}

impl VersionLedger {
    /// Opens the ledger file (a missing file is an empty ledger). A file that does not parse
    /// is an error naming it, never silently reset.
    pub fn open(path: &Path) -> Result<VersionLedger, PackError> {
        let seen = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes).map_err(|e| {
                PackError::Io(format!("{}: not a version ledger ({e})", path.display()))
            })? {
                LedgerFile::Current { packs } => packs,
                LedgerFile::Versions(versions) => versions
                    .into_iter()
                    .map(|(id, highest)| {
                        (
                            id,
                            Seen {
                                highest,
                                hashes: BTreeMap::new(),
                            },
                        )
                    })
                    .collect(),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(PackError::Io(format!("{}: {e}", path.display()))),
        };
        Ok(VersionLedger {
            path: path.to_owned(),
            seen,
        })
    }

    /// The highest version of `id` accepted so far.
    pub fn highest(&self, id: &str) -> Option<semver::Version> {
        self.seen
            .get(id)
            .and_then(|s| semver::Version::parse(&s.highest).ok())
    }

    /// The hash of the pack accepted as `version` of `id` (or a version of equal
    /// precedence), if any.
    pub fn hash_of(&self, id: &str, version: &semver::Version) -> Option<&str> {
        self.seen
            .get(id)?
            .hashes
            .get(&precedence_key(version))
            .map(String::as_str)
    }

    /// Every pack id with its highest accepted version.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.seen
            .iter()
            .map(|(k, v)| (k.as_str(), v.highest.as_str()))
    }

    /// Records that the pack `hash` was accepted as `version` of `id`; writes atomically.
    pub fn record(
        &mut self,
        id: &str,
        version: &semver::Version,
        hash: &str,
    ) -> Result<(), PackError> {
        let seen = self.seen.entry(id.to_owned()).or_default();
        let newer = semver::Version::parse(&seen.highest)
            .map_or(true, |h| h.cmp_precedence(version).is_lt());
        let key = precedence_key(version);
        if !newer && seen.hashes.get(&key).map(String::as_str) == Some(hash) {
            return Ok(());
        }
        if newer {
            seen.highest = version.to_string();
        }
        seen.hashes.entry(key).or_insert_with(|| hash.to_owned());
        #[derive(Serialize)]
        struct Out<'a> {
            packs: &'a BTreeMap<String, Seen>,
        }
        let bytes = serde_json::to_vec_pretty(&Out { packs: &self.seen }).unwrap_or_default();
        crate::fsutil::write_atomic(&self.path, &bytes, false)
            .map_err(|e| PackError::Io(format!("{}: {e}", self.path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn hashes_are_kept_per_precedence_and_old_files_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pack-versions.json");
        std::fs::write(&path, r#"{"sql-basics": "1.0.0"}"#).unwrap();
        let mut ledger = VersionLedger::open(&path).unwrap();
        assert_eq!(ledger.highest("sql-basics"), Some(v("1.0.0")));
        assert_eq!(ledger.hash_of("sql-basics", &v("1.0.0")), None);
        ledger.record("sql-basics", &v("1.1.0"), "aa").unwrap();
        let ledger = VersionLedger::open(&path).unwrap();
        assert_eq!(ledger.highest("sql-basics"), Some(v("1.1.0")));
        assert_eq!(
            ledger.hash_of("sql-basics", &v("1.1.0+rebuild")),
            Some("aa")
        );
        assert_eq!(ledger.hash_of("sql-basics", &v("1.1.0-rc.1")), None);
    }
}
