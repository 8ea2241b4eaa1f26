//! The exam a pack defines beyond its problems: duration, what the clock does while the app
//! is closed, and the proctor passphrase — kept only as a salted PBKDF2 hash.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::PackError;
use super::seal::ITERATIONS;
use crate::encoding::{hex, unhex};
use crate::problem::ExamRules;

/// Proctor passphrases shorter than this are refused when building.
pub const MIN_PASSPHRASE: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exam {
    pub rules: ExamRules,
    /// `None`: the pack allows no proctor actions.
    pub proctor: Option<ProctorCheck>,
}

/// PBKDF2-HMAC-SHA256 of the proctor passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProctorCheck {
    pub kdf: String,
    pub iterations: u32,
    pub salt: String,
    pub hash: String,
}

impl ProctorCheck {
    pub(crate) fn new(passphrase: &str, salt: &[u8]) -> Result<ProctorCheck, PackError> {
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(PackError::Key(format!(
                "the proctor passphrase must have at least {MIN_PASSPHRASE} characters"
            )));
        }
        let mut hash = [0u8; 32];
        let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            passphrase.as_bytes(),
            &mut hash,
        );
        Ok(ProctorCheck {
            kdf: "pbkdf2-hmac-sha256".into(),
            iterations: ITERATIONS,
            salt: hex(salt),
            hash: hex(&hash),
        })
    }

    /// Whether `passphrase` is the proctor's (in constant time).
    pub fn verify(&self, passphrase: &str) -> bool {
        let (Some(salt), Some(hash), Some(iterations)) = (
            unhex(&self.salt),
            unhex(&self.hash),
            NonZeroU32::new(self.iterations),
        ) else {
            return false;
        };
        self.kdf == "pbkdf2-hmac-sha256"
            && (ITERATIONS..=super::seal::MAX_ITERATIONS).contains(&self.iterations)
            && ring::pbkdf2::verify(
                ring::pbkdf2::PBKDF2_HMAC_SHA256,
                iterations,
                &salt,
                passphrase.as_bytes(),
                &hash,
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_proctor_passphrase_verifies() {
        let check = ProctorCheck::new("correct horse", b"salt").unwrap();
        assert!(check.verify("correct horse"));
        assert!(!check.verify("correct hors"));
        assert!(!check.verify(""));
        assert!(ProctorCheck::new("short", b"salt").is_err());
    }
}
