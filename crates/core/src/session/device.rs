//! The device identity: an Ed25519 key made on first run and kept (mode 0600) beside the
//! store. The device id is its key id. It proves which machine wrote a record, not that the
//! machine is honest: the server re-grades.

use std::path::Path;

use super::SessionError;
use crate::crypto::SigningKey;
use crate::fsutil::write_atomic;

/// The device key; created only for a store that has no records yet (a lost key must not
/// silently start a second identity on an existing chain).
pub(crate) fn load_or_create(
    path: &Path,
    store_has_records: bool,
) -> Result<SigningKey, SessionError> {
    match std::fs::read_to_string(path) {
        Ok(text) => SigningKey::from_pem(&text).map_err(|e| {
            SessionError::Damaged(format!("{}: not a device key ({e})", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && store_has_records => {
            Err(SessionError::Damaged(format!(
                "{} is missing, but the store holds records signed by it; restore the key (a new one would break the chain)",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate()
                .map_err(|e| SessionError::store("making the device key", e))?;
            write_atomic(path, key.to_pem().as_bytes(), true)
                .map_err(|e| SessionError::store(path.display(), e))?;
            Ok(key)
        }
        Err(e) => Err(SessionError::store(path.display(), e)),
    }
}

/// The device id of an existing key file, read without creating anything (for checking a
/// store that may be in use).
pub(crate) fn public_key_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    SigningKey::from_pem(&text)
        .ok()
        .map(|k| k.public().key_id())
}
