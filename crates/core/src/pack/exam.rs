//! The exam a pack defines beyond its problems: duration, what the clock does while the app
//! is closed, and the proctor's public key.
//!
//! Proctors prove their actions with a key pair derived from their passphrase: PBKDF2 with
//! the pack's salt (slow on purpose) gives a 32-byte Ed25519 seed. Only the public half is
//! in the pack (in the signed manifest, readable without the start code, so anyone can check
//! a proctor record); the app derives the private half when the proctor types the
//! passphrase, signs the action, and forgets it. A candidate holds the device key, not this.

use std::num::NonZeroU32;

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::PackError;
use super::seal::{ITERATIONS, KDF, MAX_ITERATIONS, pbkdf2_hmac_sha256};
use crate::crypto::PublicKey;
use crate::encoding::{hex, unhex};
use crate::problem::ExamRules;

/// Domain prefix of proctor signatures: the signed message is this, then the statement.
pub const PROCTOR_DOMAIN: &[u8] = b"sqlexam proctor action v1\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exam {
    pub rules: ExamRules,
    /// Who may sit, with their admission keys; `None`: whoever checks in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster: Option<super::roster::Roster>,
    /// From the signed manifest, never from the sealed contents. `None`: the pack allows no
    /// proctor actions.
    #[serde(skip)]
    pub proctor: Option<ProctorKey>,
}

/// How to derive the proctor's key from the passphrase, and its public half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProctorKey {
    /// "pbkdf2-hmac-sha256"
    pub kdf: String,
    pub iterations: u32,
    /// Hex, 16 bytes.
    pub salt: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
}

/// The proctor's private key, held only while an action is being signed.
pub struct ProctorSigner(Ed25519KeyPair);

impl ProctorKey {
    pub(crate) fn from_passphrase(passphrase: &str, salt: &[u8]) -> Result<ProctorKey, PackError> {
        let pair = derive(passphrase, salt, ITERATIONS)
            .ok_or_else(|| PackError::Key("cannot derive the proctor key".into()))?;
        Ok(ProctorKey {
            kdf: KDF.into(),
            iterations: ITERATIONS,
            salt: hex(salt),
            public_key: hex(pair.public_key().as_ref()),
        })
    }

    /// The public key proctor records are checked with.
    pub fn public(&self) -> Option<PublicKey> {
        PublicKey::from_hex(&self.public_key)
    }

    /// The proctor's signing key if `passphrase` is the proctor's (slow: the KDF runs).
    pub fn unlock(&self, passphrase: &str) -> Option<ProctorSigner> {
        if self.kdf != KDF || !(ITERATIONS..=MAX_ITERATIONS).contains(&self.iterations) {
            return None;
        }
        let pair = derive(passphrase, &unhex(&self.salt)?, self.iterations)?;
        (hex(pair.public_key().as_ref()) == self.public_key).then_some(ProctorSigner(pair))
    }
}

impl ProctorSigner {
    /// Signs `PROCTOR_DOMAIN ‖ statement`.
    pub fn sign(&self, statement: &str) -> Vec<u8> {
        let mut data = PROCTOR_DOMAIN.to_vec();
        data.extend_from_slice(statement.as_bytes());
        self.0.sign(&data).as_ref().to_vec()
    }
}

fn derive(passphrase: &str, salt: &[u8], iterations: u32) -> Option<Ed25519KeyPair> {
    // The same PBKDF2 as the start code's (SHA extensions where the CPU has them).
    let seed = pbkdf2_hmac_sha256(passphrase.as_bytes(), salt, NonZeroU32::new(iterations)?);
    Ed25519KeyPair::from_seed_unchecked(&seed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_proctor_passphrase_unlocks_a_key_that_verifies() {
        let key = ProctorKey::from_passphrase("k3vq-9wxe-t2mh-r8ad", b"salt").unwrap();
        assert!(key.unlock("k3vq-9wxe-t2mh-r8ae").is_none());
        assert!(key.unlock("").is_none());
        let signer = key.unlock("k3vq-9wxe-t2mh-r8ad").unwrap();
        let signature = signer.sign("session=s\nseq=3");
        let public = key.public().unwrap();
        assert!(public.verify(PROCTOR_DOMAIN, b"session=s\nseq=3", &signature));
        assert!(!public.verify(PROCTOR_DOMAIN, b"session=s\nseq=4", &signature));
    }
}
