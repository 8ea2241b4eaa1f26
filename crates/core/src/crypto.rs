//! The primitives every part signs and hashes with, below packs, records and the server:
//! Ed25519 keys (ring) — signing keys as PKCS#8 v2 PEM, public keys as SPKI PEM (so OpenSSL
//! reads them as they are), key ids — and SHA-256.

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::encoding::{hex, unhex};

/// The DER prefix that turns a raw 32-byte Ed25519 public key into SubjectPublicKeyInfo.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A key that cannot be read or made, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// A private Ed25519 signing key (an organizer's, a device's, the server's).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

/// An Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| KeyError("the system random source failed".into()))?;
        SigningKey::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(der: &[u8]) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .map_err(|e| KeyError(format!("not an Ed25519 PKCS#8 v2 private key ({e})")))?;
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    /// Reads a key file written by [`SigningKey::to_pem`].
    pub fn from_pem(text: &str) -> Result<SigningKey, KeyError> {
        let pem = pem::parse(text).map_err(|e| KeyError(format!("not a PEM file ({e})")))?;
        if pem.tag() != "PRIVATE KEY" {
            return Err(KeyError(format!(
                "expected a PRIVATE KEY, found {}",
                pem.tag()
            )));
        }
        SigningKey::from_pkcs8(pem.contents())
    }

    /// PEM (`PRIVATE KEY`, PKCS#8 v2). Keep it secret: mode 0600.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PRIVATE KEY", self.pkcs8.clone()))
    }

    pub fn public(&self) -> PublicKey {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(raw)
    }

    /// Signs `domain ‖ message`: a signature for one purpose never verifies for another.
    pub fn sign(&self, domain: &[u8], message: &[u8]) -> [u8; 64] {
        let mut data = Vec::with_capacity(domain.len() + message.len());
        data.extend_from_slice(domain);
        data.extend_from_slice(message);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(self.pair.sign(&data).as_ref());
        sig
    }

    /// A secret value derived from the key, for deterministic-but-unpredictable salts.
    pub(crate) fn secret_digest(&self) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.pkcs8);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
}

impl PublicKey {
    pub fn from_raw(raw: [u8; 32]) -> PublicKey {
        PublicKey(raw)
    }

    pub fn raw(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key id: the first 16 hex digits of SHA-256 of the raw key.
    pub fn key_id(&self) -> String {
        hex(&ring::digest::digest(&ring::digest::SHA256, &self.0).as_ref()[..8])
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    pub fn from_hex(text: &str) -> Option<PublicKey> {
        unhex(text)?.try_into().ok().map(PublicKey)
    }

    /// SubjectPublicKeyInfo DER: what `openssl pkeyutl -pubin -keyform DER` reads.
    pub fn to_spki_der(&self) -> Vec<u8> {
        [&SPKI_PREFIX[..], &self.0[..]].concat()
    }

    /// PEM (`PUBLIC KEY`, SPKI).
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.to_spki_der()))
    }

    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        let pem = pem::parse(text).map_err(|e| KeyError(format!("not a PEM file ({e})")))?;
        let der = pem.contents();
        if pem.tag() != "PUBLIC KEY" || der.len() != 44 || der[..12] != SPKI_PREFIX {
            return Err(KeyError("not an Ed25519 PUBLIC KEY (SPKI)".into()));
        }
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&der[12..]);
        Ok(PublicKey(raw))
    }

    /// Whether `signature` is this key's signature over `domain ‖ message`.
    pub fn verify(&self, domain: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let mut data = Vec::with_capacity(domain.len() + message.len());
        data.extend_from_slice(domain);
        data.extend_from_slice(message);
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(&data, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_and_sign_by_domain() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(key.public(), again.public());
        let public = PublicKey::from_pem(&key.public().to_pem()).unwrap();
        let sig = key.sign(b"a\n", b"message");
        assert!(public.verify(b"a\n", b"message", &sig));
        assert!(
            !public.verify(b"b\n", b"message", &sig),
            "another domain must not verify"
        );
        assert_eq!(public.key_id().len(), 16);
    }

    #[test]
    fn a_public_key_is_not_a_private_key() {
        let key = SigningKey::generate().unwrap();
        assert!(SigningKey::from_pem(&key.public().to_pem()).is_err());
        assert!(PublicKey::from_pem(&key.to_pem()).is_err());
    }
}
