//! The highest version of each pack this machine has accepted, so an older version is
//! refused (rollback). A candidate can edit this file; that is why every result record also
//! names the pack's hash and version and the server enforces freshness too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PackError;

pub struct VersionLedger {
    path: PathBuf,
    seen: BTreeMap<String, String>,
}

impl VersionLedger {
    /// Opens the ledger file (a missing file is an empty ledger). A file that does not parse
    /// is an error naming it, never silently reset.
    pub fn open(path: &Path) -> Result<VersionLedger, PackError> {
        let seen = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                PackError::Io(format!("{}: not a version ledger ({e})", path.display()))
            })?,
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
            .and_then(|v| semver::Version::parse(v).ok())
    }

    /// Every pack id with its highest accepted version.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.seen.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Records `version` of `id` if it is newer than what was seen; writes atomically.
    pub fn record(&mut self, id: &str, version: &semver::Version) -> Result<(), PackError> {
        if self
            .highest(id)
            .is_some_and(|h| h.cmp_precedence(version) != std::cmp::Ordering::Less)
        {
            return Ok(());
        }
        self.seen.insert(id.to_owned(), version.to_string());
        let io = |e: std::io::Error| PackError::Io(format!("{}: {e}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.seen).unwrap_or_default();
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}
