//! Sealing with a start code: PBKDF2-HMAC-SHA256 turns the code and the manifest's salt
//! into an AES-256-GCM key. Each entry is sealed in 1 MiB segments, each with its own nonce
//! (entry index, segment index) and AAD binding pack id, version, entry path and whether it
//! is the last segment, so no segment can be moved to another place, pack or version, nor
//! an entry cut short; independent segments let a large entry decrypt on every core.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use ring::hmac;
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

use super::PackError;

pub(crate) const KDF: &str = "pbkdf2-hmac-sha256";
/// AES-256-GCM over 1 MiB segments (docs/pack-format.md, "Sealing").
pub(crate) const CIPHER: &str = "aes-256-gcm-segments-1m";
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

    fn nonce(index: usize, segment: usize) -> Nonce {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&(index as u32).to_be_bytes());
        n[4..].copy_from_slice(&(segment as u64).to_be_bytes());
        Nonce::assume_unique_for_key(n)
    }

    fn aad(id: &str, version: &str, path: &str, last: bool) -> Vec<u8> {
        let position = if last { "last" } else { "more" };
        format!("sqlexam pack entry v2\n{id}\n{version}\n{path}\n{position}").into_bytes()
    }

    /// Entry `index`, sealed: its segments' ciphertexts, then their tags.
    pub fn seal(
        &self,
        index: usize,
        id: &str,
        version: &str,
        path: &str,
        mut data: Vec<u8>,
    ) -> Vec<u8> {
        let count = segment_count(data.len());
        let mut tags = Vec::with_capacity(count * TAG_LEN);
        for segment in 0..count {
            let start = (segment * SEGMENT).min(data.len());
            let end = (start + SEGMENT).min(data.len());
            let aad = Self::aad(id, version, path, segment + 1 == count);
            // Sealing fails only past GCM's 64 GiB per message, far beyond one segment.
            if let Ok(tag) = self.key.seal_in_place_separate_tag(
                Self::nonce(index, segment),
                Aad::from(&aad),
                &mut data[start..end],
            ) {
                tags.extend_from_slice(tag.as_ref());
            }
        }
        data.extend_from_slice(&tags);
        data
    }

    /// The plaintext, or `None` if the key (start code) is wrong or the bytes were changed.
    /// The segments are independent, so large entries are decrypted on every core.
    pub fn open(
        &self,
        index: usize,
        id: &str,
        version: &str,
        path: &str,
        mut data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let count = sealed_segment_count(data.len());
        let plain_len = data.len().checked_sub(count * TAG_LEN)?;
        let (plain, tags) = data.split_at_mut(plain_len);
        let open_range = |first: usize, plain: &mut [u8], tags: &[u8]| -> bool {
            plain
                .chunks_mut(SEGMENT)
                .zip(tags.chunks(TAG_LEN))
                .enumerate()
                .all(|(k, (segment, tag))| {
                    let n = first + k;
                    let aad = Self::aad(id, version, path, n + 1 == count);
                    let tag = Tag::try_from(tag).ok();
                    tag.is_some_and(|tag| {
                        self.key
                            .open_in_place_separate_tag(
                                Self::nonce(index, n),
                                Aad::from(&aad),
                                tag,
                                segment,
                                0..,
                            )
                            .is_ok()
                    })
                })
        };
        let threads = if count >= PARALLEL_SEGMENTS {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(count))
        } else {
            1
        };
        let opened = if threads == 1 || plain.is_empty() {
            open_range(0, plain, tags)
        } else {
            let per_thread = count.div_ceil(threads);
            std::thread::scope(|scope| {
                let workers: Vec<_> = plain
                    .chunks_mut(per_thread * SEGMENT)
                    .zip(tags.chunks(per_thread * TAG_LEN))
                    .enumerate()
                    .map(|(t, (plain, tags))| {
                        scope.spawn(move || open_range(t * per_thread, plain, tags))
                    })
                    .collect();
                // The scope joins any worker left when one has already failed.
                workers.into_iter().all(|w| w.join().unwrap_or(false))
            })
        };
        if !opened {
            return None;
        }
        data.truncate(plain_len);
        Some(data)
    }
}

/// Plaintext bytes per sealed segment.
const SEGMENT: usize = 1 << 20;
const TAG_LEN: usize = 16;
/// Entries of at least this many segments are decrypted on several threads.
const PARALLEL_SEGMENTS: usize = 8;

/// Segments of a `len`-byte plaintext: an empty entry still has one (its tag).
fn segment_count(len: usize) -> usize {
    len.div_ceil(SEGMENT).max(1)
}

/// Segments of a sealed entry of `len` bytes (each holds up to SEGMENT + TAG_LEN).
fn sealed_segment_count(len: usize) -> usize {
    len.div_ceil(SEGMENT + TAG_LEN).max(1)
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
            wrong
                .open(3, "pack", "1.0.0", "a.json", sealed.clone())
                .is_none(),
            "another code"
        );
    }

    #[test]
    fn segmented_entries_round_trip_at_every_boundary() {
        let key = SealKey::derive("CODE1234", b"salt", 1_000).unwrap();
        for len in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 9 * SEGMENT + 5] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = key.seal(0, "p", "1.0.0", "big.sqlite", plain.clone());
            assert_eq!(
                sealed.len(),
                len + segment_count(len) * TAG_LEN,
                "{len} bytes"
            );
            let opened = key.open(0, "p", "1.0.0", "big.sqlite", sealed);
            assert!(opened.as_deref() == Some(&plain[..]), "{len} bytes");
        }
    }

    #[test]
    fn segments_cannot_be_dropped_swapped_or_altered() {
        let key = SealKey::derive("CODE1234", b"salt", 1_000).unwrap();
        let plain: Vec<u8> = (0..9 * SEGMENT + 5).map(|i| (i % 253) as u8).collect();
        let sealed = key.seal(2, "p", "1.0.0", "big.sqlite", plain);
        let open = |bytes: Vec<u8>| key.open(2, "p", "1.0.0", "big.sqlite", bytes);
        let tags_at = 9 * SEGMENT + 5;

        // The last segment and its tag removed: what remains ends on a "more" segment.
        let mut cut = sealed[..9 * SEGMENT].to_vec();
        cut.extend_from_slice(&sealed[tags_at..tags_at + 9 * TAG_LEN]);
        assert!(open(cut).is_none(), "truncated at a segment boundary");

        // Segments 0 and 1 swapped, with their tags.
        let mut swapped = sealed.clone();
        swapped[..SEGMENT].copy_from_slice(&sealed[SEGMENT..2 * SEGMENT]);
        swapped[SEGMENT..2 * SEGMENT].copy_from_slice(&sealed[..SEGMENT]);
        swapped[tags_at..tags_at + TAG_LEN]
            .copy_from_slice(&sealed[tags_at + TAG_LEN..tags_at + 2 * TAG_LEN]);
        swapped[tags_at + TAG_LEN..tags_at + 2 * TAG_LEN]
            .copy_from_slice(&sealed[tags_at..tags_at + TAG_LEN]);
        assert!(open(swapped).is_none(), "segments reordered");

        // One bit in a segment the second thread decrypts.
        let mut flipped = sealed.clone();
        flipped[8 * SEGMENT + 7] ^= 1;
        assert!(open(flipped).is_none(), "a bit flipped late in the entry");
        assert!(open(sealed).is_some());
    }
}
