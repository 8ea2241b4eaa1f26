//! Writing files so that a crash leaves the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

/// Writes through a temporary sibling (`<name>.tmp`: files differing only in extension do
/// not share one), fsync and rename, then (Unix) fsyncs the folder so the rename itself is
/// on the disk — a USB stick pulled out right after holds the file. `secret` files are
/// readable by their owner only (`platform::private_file` says how on each system).
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = crate::platform::private_file(&mut options, secret).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Ok(folder) = std::fs::File::open(dir.unwrap_or(Path::new("."))) {
        // Best effort: some file systems cannot sync a folder; the file itself is synced.
        let _ = folder.sync_all();
    }
    Ok(())
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
