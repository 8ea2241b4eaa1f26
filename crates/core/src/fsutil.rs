//! Writing files so that a crash leaves the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

/// Writes through a temporary sibling, fsync and rename. `secret` files get mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
