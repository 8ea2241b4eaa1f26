//! Sealing with a start code: PBKDF2-HMAC-SHA256 turns the code and the manifest's salt
//! into an AES-256-GCM key; each entry gets its own nonce (its index in the manifest) and
//! AAD binding pack id, version and entry path, so an entry cannot be moved to another
//! place, pack or version.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;

use super::PackError;

pub(crate) const KDF: &str = "pbkdf2-hmac-sha256";
pub(crate) const CIPHER: &str = "aes-256-gcm";
/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub(crate) const ITERATIONS: u32 = 600_000;
/// A manifest asking for more is refused (it would only burn the machine's time).
pub(crate) const MAX_ITERATIONS: u32 = 10_000_000;
/// Start codes shorter than this (after normalizing) are refused when building.
pub const MIN_START_CODE: usize = 8;

/// The start code as it is used: upper case, without spaces and hyphens, so "7g4k-2qxm
/// 9p" and "7G4K2QXM9P" are the same code.
pub fn normalize_start_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The AES key derived from a start code, and its check value.
pub(crate) struct SealKey {
    key: LessSafeKey,
    /// HMAC-SHA256(key, "sqlexam seal key check v1"), first 16 bytes: published in the
    /// manifest so that a wrong start code is told apart from entries that do not decrypt
    /// (a damaged or mis-built pack). It lets a guess be checked without decrypting, which a
    /// guesser could do anyway with any sealed entry: the code's strength is what protects.
    pub check: [u8; 16],
}

impl SealKey {
    pub fn derive(code: &str, salt: &[u8], iterations: u32) -> Result<SealKey, PackError> {
        let iterations = NonZeroU32::new(iterations)
            .ok_or_else(|| PackError::Manifest("seal iterations is 0".into()))?;
        let mut key = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            normalize_start_code(code).as_bytes(),
            &mut key,
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &key),
            b"sqlexam seal key check v1",
        );
        let mut check = [0u8; 16];
        check.copy_from_slice(&tag.as_ref()[..16]);
        let unbound = UnboundKey::new(&AES_256_GCM, &key)
            .map_err(|_| PackError::Manifest("bad seal key".into()))?;
        Ok(SealKey {
            key: LessSafeKey::new(unbound),
            check,
        })
    }

    fn nonce(index: usize) -> Nonce {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&(index as u64).to_be_bytes());
        Nonce::assume_unique_for_key(n)
    }

    fn aad(id: &str, version: &str, path: &str) -> Vec<u8> {
        format!("sqlexam pack entry v1\n{id}\n{version}\n{path}").into_bytes()
    }

    pub fn seal(
        &self,
        index: usize,
        id: &str,
        version: &str,
        path: &str,
        mut data: Vec<u8>,
    ) -> Vec<u8> {
        let aad = Self::aad(id, version, path);
        // Sealing only fails if the data is longer than GCM allows (64 GiB), far past our caps.
        let _ = self
            .key
            .seal_in_place_append_tag(Self::nonce(index), Aad::from(&aad), &mut data);
        data
    }

    /// The plaintext, or `None` if the key (start code) is wrong or the bytes were changed.
    pub fn open(
        &self,
        index: usize,
        id: &str,
        version: &str,
        path: &str,
        mut data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let aad = Self::aad(id, version, path);
        let len = self
            .key
            .open_in_place(Self::nonce(index), Aad::from(&aad), &mut data)
            .ok()?
            .len();
        data.truncate(len);
        Some(data)
    }
}

/// A salt that is unique to the pack's contents and unpredictable without the signing key,
/// yet the same for the same inputs, so builds stay byte-for-byte reproducible.
pub(crate) fn derive_salt(
    secret: &[u8; 32],
    id: &str,
    version: &str,
    contents_digest: &[u8],
) -> [u8; 16] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = format!("sqlexam seal salt v1\n{id}\n{version}\n").into_bytes();
    msg.extend_from_slice(contents_digest);
    let tag = hmac::sign(&key, &msg);
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&tag.as_ref()[..16]);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_ignore_case_spaces_and_hyphens() {
        assert_eq!(normalize_start_code("7g4k-2qxm 9p"), "7G4K2QXM9P");
    }

    #[test]
    fn sealed_entries_open_only_with_the_right_key_and_place() {
        let key = SealKey::derive("CODE1234", b"salt", 1_000).unwrap();
        let sealed = key.seal(3, "pack", "1.0.0", "a.json", b"secret".to_vec());
        assert_eq!(
            key.open(3, "pack", "1.0.0", "a.json", sealed.clone())
                .as_deref(),
            Some(&b"secret"[..])
        );
        assert!(
            key.open(4, "pack", "1.0.0", "a.json", sealed.clone())
                .is_none(),
            "another nonce"
        );
        assert!(
            key.open(3, "pack", "1.0.1", "a.json", sealed.clone())
                .is_none(),
            "another version"
        );
        assert!(
            key.open(3, "pack", "1.0.0", "b.json", sealed.clone())
                .is_none(),
            "another path"
        );
        let wrong = SealKey::derive("CODE1235", b"salt", 1_000).unwrap();
        assert!(
            wrong.open(3, "pack", "1.0.0", "a.json", sealed).is_none(),
            "another code"
        );
    }
}
