//! Writing files so that a crash leaves the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

/// Writes through a temporary sibling, fsync and rename. `secret` files are readable by
/// their owner only (`platform::private_file` says how on each system).
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = crate::platform::private_file(&mut options, secret).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Creates `path` with `bytes`, readable by its owner only, and fails with `AlreadyExists`
/// if it exists: of several processes creating one file at once, exactly one succeeds
/// (the others may read it while it is being written, and should read again).
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = crate::platform::private_file(&mut options, true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates a folder only its owner can enter (`platform::private_dir`), unless it exists.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    crate::platform::private_dir(path)
}
