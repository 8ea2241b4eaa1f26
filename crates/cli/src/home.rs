//! Where the CLI keeps its state: the trust store (config) and the versions of packs seen
//! (data). `SQLEXAM_HOME` puts both in one folder (tests, portable installs); otherwise the
//! platform's directories (`~/.config/sqlexam`, `~/.local/share/sqlexam` on Linux).

use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlexam_core::pack::{Trust, VersionLedger};

pub struct Home {
    config: PathBuf,
    data: PathBuf,
}

impl Home {
    pub fn locate() -> anyhow::Result<Home> {
        if let Some(home) = std::env::var_os("SQLEXAM_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Home {
                config: home.clone(),
                data: home,
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "sqlexam")
            .context("cannot find a home directory for sqlexam's settings; set SQLEXAM_HOME")?;
        Ok(Home {
            config: dirs.config_dir().to_owned(),
            data: dirs.data_dir().to_owned(),
        })
    }

    /// Where sqlexam keeps data on this machine (the server's default folder is inside).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn trust_path(&self) -> PathBuf {
        self.config.join("trust.json")
    }

    pub fn ledger(&self) -> anyhow::Result<VersionLedger> {
        Ok(VersionLedger::open(&self.data.join("pack-versions.json"))?)
    }

    /// The trust store; a missing file trusts nobody.
    pub fn trust(&self) -> anyhow::Result<Trust> {
        let path = self.trust_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a sqlexam trust store", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Trust::default()),
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }

    pub fn save_trust(&self, trust: &Trust) -> anyhow::Result<()> {
        write_atomic(
            &self.trust_path(),
            serde_json::to_string_pretty(trust)?.as_bytes(),
            false,
        )
    }
}

/// Writes a file atomically (sqlexam_core::fsutil), naming the file on error.
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<()> {
    sqlexam_core::fsutil::write_atomic(path, bytes, secret)
        .with_context(|| format!("{}: cannot write", path.display()))
}
