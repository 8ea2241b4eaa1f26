//! Sealing with a start code: PBKDF2-HMAC-SHA256 turns the code and the manifest's salt
//! into an AES-256-GCM key; each entry gets its own nonce (its index in the manifest) and
//! AAD binding pack id, version and entry path, so an entry cannot be moved to another
//! place, pack or version.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

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
        let key = pbkdf2_hmac_sha256(normalize_start_code(code).as_bytes(), salt, iterations);
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

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// PBKDF2-HMAC-SHA256 (RFC 8018) with one 32-byte output block: the seal key.
///
/// Written out over `sha2`'s compression function (SHA extensions where the CPU has them)
/// because this KDF is on the critical path of opening a sealed pack, and ring's PBKDF2
/// takes twice as long as the compressions it needs. With one output block each of the
/// 600,000 iterations is exactly two compressions, of one fixed-layout block each, on top
/// of the inner and outer HMAC key states computed once. Tests hold it to ring's PBKDF2.
pub(crate) fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: NonZeroU32) -> [u8; 32] {
    // The HMAC key (RFC 2104): hashed first when longer than a block, zero-padded.
    let mut key = [0u8; 64];
    if password.len() > key.len() {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let (ipad, opad) = (key.map(|b| b ^ 0x36), key.map(|b| b ^ 0x5c));
    let keyed = |pad: &[u8; 64]| {
        let mut state = SHA256_IV;
        sha2::compress256(
            &mut state,
            std::slice::from_ref(GenericArray::from_slice(pad)),
        );
        state
    };
    let (inner, outer) = (keyed(&ipad), keyed(&opad));

    // U1 = HMAC(password, salt ‖ INT(1)): the salt may be any length.
    let inner_u1 = Sha256::new()
        .chain_update(ipad)
        .chain_update(salt)
        .chain_update(1u32.to_be_bytes())
        .finalize();
    let u1 = Sha256::new()
        .chain_update(opad)
        .chain_update(inner_u1)
        .finalize();

    // U(j+1) = H(opad ‖ H(ipad ‖ Uj)): after the 64-byte keyed state, each hash is one
    // block holding the 32-byte message and the padding of a 96-byte message. The loop
    // keeps to plain indexing so that it stays fast in unoptimized (test) builds too.
    let mut block = GenericArray::<u8, U64>::default();
    block[..32].copy_from_slice(&u1);
    block[32] = 0x80;
    block[56..].copy_from_slice(&(96u64 * 8).to_be_bytes());
    let mut out = [0u32; 8];
    for i in 0..8 {
        out[i] = u32::from_be_bytes([u1[4 * i], u1[4 * i + 1], u1[4 * i + 2], u1[4 * i + 3]]);
    }
    let put = |state: &[u32; 8], block: &mut GenericArray<u8, U64>| {
        for i in 0..8 {
            block[4 * i..4 * i + 4].copy_from_slice(&state[i].to_be_bytes());
        }
    };
    for _ in 1..iterations.get() {
        let mut state = inner;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        put(&state, &mut block);
        state = outer;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        put(&state, &mut block);
        for i in 0..8 {
            out[i] ^= state[i];
        }
    }
    let mut derived = [0u8; 32];
    for i in 0..8 {
        derived[4 * i..4 * i + 4].copy_from_slice(&out[i].to_be_bytes());
    }
    derived
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

    fn iterations(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn pbkdf2_matches_the_published_test_vectors() {
        // RFC 7914, section 11 (the first 32 bytes of its 64-byte outputs: one block).
        let hex = |b: [u8; 32]| crate::encoding::hex(&b);
        assert_eq!(
            hex(pbkdf2_hmac_sha256(b"passwd", b"salt", iterations(1))),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        assert_eq!(
            hex(pbkdf2_hmac_sha256(b"Password", b"NaCl", iterations(80_000))),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
    }

    #[test]
    fn pbkdf2_agrees_with_ring_across_key_salt_and_block_boundaries() {
        // Passwords around the HMAC block (64 bytes: longer ones are hashed first) and
        // salts around the padding boundaries of U1's message (ipad ‖ salt ‖ INT(1)).
        for password_len in [0, 1, 8, 31, 32, 55, 63, 64, 65, 100, 128, 200] {
            for salt_len in [0, 1, 16, 51, 52, 55, 56, 63, 64, 119, 120, 130] {
                for n in [1, 2, 3, 1_000] {
                    let password: Vec<u8> = (0..password_len).map(|i| (i * 7 + 3) as u8).collect();
                    let salt: Vec<u8> = (0..salt_len).map(|i| (i * 13 + 1) as u8).collect();
                    let mut expected = [0u8; 32];
                    ring::pbkdf2::derive(
                        ring::pbkdf2::PBKDF2_HMAC_SHA256,
                        iterations(n),
                        &salt,
                        &password,
                        &mut expected,
                    );
                    assert_eq!(
                        pbkdf2_hmac_sha256(&password, &salt, iterations(n)),
                        expected,
                        "password {password_len} bytes, salt {salt_len} bytes, {n} iterations"
                    );
                }
            }
        }
    }

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
