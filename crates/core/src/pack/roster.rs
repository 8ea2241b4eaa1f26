//! Who may sit an exam: the pack's roster, and the admission codes that prove a candidate
//! at check-in. Each candidate on the roster gets an admission code (70 random bits, printed
//! once on the slip the organizer hands out); the pack keeps only the public half of an
//! Ed25519 key derived from it (PBKDF2 with the roster's salt and the candidate's id, slow
//! on purpose, as the proctor key is). At check-in the app derives the key from the code
//! the candidate types and signs the session's [`admission_statement`] with it — the
//! session's first record carries that signature, so anyone holding the pack can check,
//! offline, that whoever started the session held the candidate's code. A walk-in or a
//! lost slip is admitted by a proctor instead: the same statement signed with the proctor
//! key. A pack without a roster admits whoever checks in, as before.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::PackError;
use super::seal::{KDF, MAX_ITERATIONS, normalize_start_code, pbkdf2_hmac_sha256};
use crate::crypto::PublicKey;
use crate::encoding::{hex, unhex};

/// Domain prefix of admission signatures by an admission code's key.
pub const ADMISSION_DOMAIN: &[u8] = b"sqlexam admission v1\n";
/// Iterations for each candidate's key: a guess costs ~20 ms, and a code has 70 bits.
pub const ROSTER_ITERATIONS: u32 = 100_000;
/// Crockford's base 32, as start codes.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols of an admission code (5 bits each), shown in groups of 5, 5 and 4.
const SYMBOLS: usize = 14;
/// The longest candidate id and name a roster takes.
const MAX_ID: usize = 64;
const MAX_NAME: usize = 200;

/// The roster in a pack's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// "pbkdf2-hmac-sha256"
    pub kdf: String,
    pub iterations: u32,
    /// Hex, 16 bytes; each candidate's salt is this followed by their id.
    pub salt: String,
    pub candidates: Vec<RosterEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterEntry {
    pub candidate: String,
    pub name: String,
    /// Per-candidate settings from the roster's other columns (used by later work, e.g.
    /// extra time), as given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// Raw Ed25519 public key (hex) derived from the candidate's admission code.
    pub public_key: String,
}

/// A candidate as the organizer lists them, before codes are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub candidate: String,
    pub name: String,
    pub settings: BTreeMap<String, String>,
}

/// What a session's first record says of how its candidate was admitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// `code` (the candidate's admission code) or `proctor` (the proctor key).
    pub by: String,
    /// Ed25519 over [`admission_statement`], hex.
    pub signature: String,
}

/// How a session stands against its pack's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Admitted {
    /// The pack has no roster: whoever checked in.
    NoRoster,
    ByCode,
    ByProctor,
    /// No admission, or one that does not verify.
    Unadmitted,
}

impl Admitted {
    pub fn code(self) -> &'static str {
        match self {
            Admitted::NoRoster => "no_roster",
            Admitted::ByCode => "code",
            Admitted::ByProctor => "proctor",
            Admitted::Unadmitted => "unadmitted",
        }
    }
}

/// What the admission signs: the session, the device key that will sign its records, and
/// the candidate — so it cannot be moved to another session, machine or candidate.
pub fn admission_statement(session: &str, device_public_key: &str, candidate: &str) -> String {
    format!("admission\nsession={session}\ndevice_key={device_public_key}\ncandidate={candidate}")
}

/// A new admission code: 70 random bits, e.g. `7G4K2-QXM9P-ZRH3`.
pub fn generate_admission_code() -> Result<String, PackError> {
    let mut random = [0u8; SYMBOLS];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| PackError::Key("the system random source failed".into()))?;
    let mut out = String::with_capacity(SYMBOLS + 2);
    for (i, byte) in random.iter().enumerate() {
        if i == 5 || i == 10 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(byte & 31)]));
    }
    Ok(out)
}

fn derive(code: &str, salt: &[u8], candidate: &str, iterations: u32) -> Option<Ed25519KeyPair> {
    let mut s = salt.to_vec();
    s.extend_from_slice(candidate.as_bytes());
    let seed = pbkdf2_hmac_sha256(
        normalize_start_code(code).as_bytes(),
        &s,
        NonZeroU32::new(iterations)?,
    );
    Ed25519KeyPair::from_seed_unchecked(&seed).ok()
}

/// Checks a listed roster: ids present, unique, not too long; names present.
pub fn check_listed(listed: &[Listed]) -> Result<(), PackError> {
    let mut seen = BTreeSet::new();
    for (i, c) in listed.iter().enumerate() {
        let at = format!("roster entry {} (candidate {:?})", i + 1, c.candidate);
        let bad = |what: &str| Err(PackError::Manifest(format!("{at}: {what}")));
        if c.candidate.trim().is_empty() || c.candidate.trim() != c.candidate {
            return bad("the candidate id is empty or has spaces around it");
        }
        if c.candidate.chars().count() > MAX_ID || c.name.chars().count() > MAX_NAME {
            return bad(&format!(
                "ids take at most {MAX_ID} characters, names {MAX_NAME}"
            ));
        }
        if c.name.trim().is_empty() {
            return bad("the name is empty");
        }
        if !seen.insert(c.candidate.as_str()) {
            return bad("this candidate id is listed twice");
        }
    }
    Ok(())
}

impl Roster {
    /// The roster of `listed`, each with the key of the admission code beside it in `codes`
    /// (one per candidate, same order), derived with `salt`. Slow: one KDF per candidate, on
    /// every core.
    pub fn build(listed: &[Listed], codes: &[String], salt: &[u8]) -> Result<Roster, PackError> {
        check_listed(listed)?;
        if codes.len() != listed.len() {
            return Err(PackError::Key(
                "one admission code per candidate is needed".into(),
            ));
        }
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let chunk = listed.len().div_ceil(threads).max(1);
        let keys: Vec<Option<String>> = std::thread::scope(|scope| {
            let work: Vec<_> = listed
                .chunks(chunk)
                .zip(codes.chunks(chunk))
                .map(|(people, codes)| {
                    scope.spawn(move || {
                        people
                            .iter()
                            .zip(codes)
                            .map(|(p, code)| {
                                derive(code, salt, &p.candidate, ROSTER_ITERATIONS)
                                    .map(|k| hex(k.public_key().as_ref()))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            work.into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        let candidates = listed
            .iter()
            .zip(keys)
            .map(|(p, key)| {
                Ok(RosterEntry {
                    candidate: p.candidate.clone(),
                    name: p.name.clone(),
                    settings: p.settings.clone(),
                    public_key: key.ok_or_else(|| {
                        PackError::Key(format!(
                            "cannot derive the admission key of candidate {}",
                            p.candidate
                        ))
                    })?,
                })
            })
            .collect::<Result<Vec<_>, PackError>>()?;
        Ok(Roster {
            kdf: KDF.into(),
            iterations: ROSTER_ITERATIONS,
            salt: hex(salt),
            candidates,
        })
    }

    /// Whether the roster's parameters are ones this sqlexam derives with.
    pub fn check(&self) -> Result<(), PackError> {
        let salt_ok = unhex(&self.salt).is_some_and(|s| s.len() == 16);
        if self.kdf != KDF || !(1..=MAX_ITERATIONS).contains(&self.iterations) || !salt_ok {
            return Err(PackError::Contents(
                "the roster's key derivation is not supported".into(),
            ));
        }
        let ids: BTreeSet<&str> = self
            .candidates
            .iter()
            .map(|c| c.candidate.as_str())
            .collect();
        if ids.len() != self.candidates.len() {
            return Err(PackError::Contents(
                "the roster lists a candidate twice".into(),
            ));
        }
        Ok(())
    }

    pub fn entry(&self, candidate: &str) -> Option<&RosterEntry> {
        self.candidates.iter().find(|c| c.candidate == candidate)
    }

    /// Signs the admission of `candidate` to `session` (on the device whose key is
    /// `device_public_key`) with the key of `code` — `None` when the candidate is not on
    /// the roster or the code is not theirs. Slow: the KDF runs.
    pub fn admit(
        &self,
        candidate: &str,
        code: &str,
        session: &str,
        device_public_key: &str,
    ) -> Option<Admission> {
        let entry = self.entry(candidate)?;
        let pair = derive(code, &unhex(&self.salt)?, candidate, self.iterations)?;
        if hex(pair.public_key().as_ref()) != entry.public_key {
            return None;
        }
        let statement = admission_statement(session, device_public_key, candidate);
        let mut message = ADMISSION_DOMAIN.to_vec();
        message.extend_from_slice(statement.as_bytes());
        Some(Admission {
            by: "code".into(),
            signature: hex(pair.sign(&message).as_ref()),
        })
    }
}

/// How the session `session` of `candidate` on the device `device_public_key` stands on a
/// roster, given the candidate's admission key there (`None`: not listed), the pack's
/// proctor key and the admission its first record carries.
pub fn check_admission(
    candidate_key: Option<&PublicKey>,
    proctor: Option<&PublicKey>,
    admission: Option<&Admission>,
    session: &str,
    device_public_key: &str,
    candidate: &str,
) -> Admitted {
    let Some(a) = admission else {
        return Admitted::Unadmitted;
    };
    let statement = admission_statement(session, device_public_key, candidate);
    let Some(signature) = unhex(&a.signature) else {
        return Admitted::Unadmitted;
    };
    let verifies = |key: Option<&PublicKey>, domain: &[u8]| {
        key.is_some_and(|k| k.verify(domain, statement.as_bytes(), &signature))
    };
    match a.by.as_str() {
        "code" if verifies(candidate_key, ADMISSION_DOMAIN) => Admitted::ByCode,
        "proctor" if verifies(proctor, super::PROCTOR_DOMAIN) => Admitted::ByProctor,
        _ => Admitted::Unadmitted,
    }
}

/// As [`check_admission`], against `roster` (its pack's, if it has one).
pub fn admitted(
    roster: Option<&Roster>,
    proctor: Option<&PublicKey>,
    admission: Option<&Admission>,
    session: &str,
    device_public_key: &str,
    candidate: &str,
) -> Admitted {
    let Some(roster) = roster else {
        return Admitted::NoRoster;
    };
    let key = roster
        .entry(candidate)
        .and_then(|e| PublicKey::from_hex(&e.public_key));
    check_admission(
        key.as_ref(),
        proctor,
        admission,
        session,
        device_public_key,
        candidate,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str) -> Listed {
        Listed {
            candidate: id.into(),
            name: format!("Name {id}"),
            settings: BTreeMap::new(),
        }
    }

    #[test]
    fn only_the_candidates_own_code_admits_them_and_only_to_that_session() {
        let codes = vec![
            generate_admission_code().unwrap(),
            generate_admission_code().unwrap(),
        ];
        assert_eq!(codes[0].len(), 16, "{}", codes[0]);
        let roster = Roster::build(&[listed("c1"), listed("c2")], &codes, &[7; 16]).unwrap();
        roster.check().unwrap();
        assert!(
            roster.admit("c1", &codes[1], "s", "k").is_none(),
            "c2's code"
        );
        assert!(
            roster.admit("c9", &codes[0], "s", "k").is_none(),
            "not listed"
        );
        // Typed in lower case, without hyphens: the same code.
        let typed = codes[0].replace('-', "").to_lowercase();
        let a = roster.admit("c1", &typed, "s", "k").unwrap();
        let ok = admitted(Some(&roster), None, Some(&a), "s", "k", "c1");
        assert_eq!(ok, Admitted::ByCode);
        for (session, key, candidate) in [("t", "k", "c1"), ("s", "j", "c1"), ("s", "k", "c2")] {
            assert_eq!(
                admitted(Some(&roster), None, Some(&a), session, key, candidate),
                Admitted::Unadmitted,
                "moved to {session} {key} {candidate}"
            );
        }
        assert_eq!(
            admitted(Some(&roster), None, None, "s", "k", "c1"),
            Admitted::Unadmitted
        );
        assert_eq!(
            admitted(None, None, None, "s", "k", "c1"),
            Admitted::NoRoster
        );
    }

    #[test]
    fn a_roster_with_a_repeated_or_empty_id_is_refused_by_line() {
        let e = check_listed(&[listed("c1"), listed("c1")]).unwrap_err();
        assert!(
            e.to_string().contains("roster entry 2") && e.to_string().contains("twice"),
            "{e}"
        );
        let e = check_listed(&[listed(" c1")]).unwrap_err();
        assert!(e.to_string().contains("roster entry 1"), "{e}");
    }
}
