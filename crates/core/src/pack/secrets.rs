//! Start codes and proctor passphrases: generated with 80 bits from the system's random
//! source, and an estimate of the strength of one an organizer chose. One guess costs a
//! PBKDF2 with 600,000 iterations (0.1–0.3 s on one core), so an 8-digit code falls in
//! hours on a GPU; 80 bits does not fall, and anything under 60 is refused unless the
//! organizer says they know (a demo, a classroom).

use ring::rand::{SecureRandom, SystemRandom};

use super::PackError;

/// Crockford's base 32: digits and upper-case letters without I, L, O and U, so nothing is
/// misread when a proctor reads a code aloud or writes it on a board.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Generated secrets: 16 symbols of 5 bits, in four groups of four.
const SYMBOLS: usize = 16;
/// Estimated bits below which a chosen code or passphrase is refused without
/// `allow_weak_secrets`.
pub const MIN_SECRET_BITS: f64 = 60.0;
/// What one dictionary word is worth to a guesser (a 7,776-word list, as diceware).
const WORD_BITS: f64 = 12.9;

/// A new start code: 80 random bits, e.g. `7G4K-2QXM-9PZR-H3CW`.
pub fn generate_start_code() -> Result<String, PackError> {
    generate(false)
}

/// A new proctor passphrase: 80 random bits, lower case so it is not mixed up with the
/// start code, e.g. `k3vq-9wxe-t2mh-r8ad`.
pub fn generate_passphrase() -> Result<String, PackError> {
    generate(true)
}

fn generate(lower: bool) -> Result<String, PackError> {
    let mut random = [0u8; SYMBOLS];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| PackError::Key("the system random source failed".into()))?;
    let mut out = String::with_capacity(SYMBOLS + 3);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let c = char::from(ALPHABET[usize::from(byte & 31)]);
        out.push(if lower { c.to_ascii_lowercase() } else { c });
    }
    Ok(out)
}

/// A conservative estimate of how many bits a guesser must search to find `secret`:
/// a run of four or more letters counts as one dictionary word, a run of digits or a
/// shorter run of letters as that many random symbols of its kind, any other symbol as
/// one of 95 printable characters; spaces, hyphens and underscores count nothing. Random
/// strings made mostly of letters are underestimated (`ABCDEFGH` counts as two words):
/// generated secrets never go through this check.
pub fn estimated_bits(secret: &str) -> f64 {
    let mut bits = 0.0;
    let chars: Vec<char> = secret.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let same_kind = |d: char| {
            (c.is_alphabetic() && d.is_alphabetic()) || (c.is_ascii_digit() && d.is_ascii_digit())
        };
        if c.is_alphabetic() || c.is_ascii_digit() {
            let run = chars[i..].iter().take_while(|&&d| same_kind(d)).count();
            bits += if c.is_ascii_digit() {
                run as f64 * 10f64.log2()
            } else if run >= 4 {
                WORD_BITS
            } else {
                run as f64 * 26f64.log2()
            };
            i += run;
        } else {
            if !(c.is_whitespace() || c == '-' || c == '_') {
                bits += 95f64.log2();
            }
            i += 1;
        }
    }
    bits
}

/// Refuses a secret an organizer chose when it is estimated under [`MIN_SECRET_BITS`],
/// unless `allow_weak` (`pack build` checks what it is given; generated secrets have 80
/// bits by construction and are not estimated).
pub fn check_strength(what: &str, secret: &str, allow_weak: bool) -> Result<(), PackError> {
    let bits = estimated_bits(secret);
    if bits < MIN_SECRET_BITS && !allow_weak {
        return Err(PackError::Key(format!(
            "the {what} is too easy to guess (about {bits:.0} bits; at least {MIN_SECRET_BITS:.0} needed): \
             leave it out to get a generated one of 80 bits, or allow weak secrets explicitly \
             (--allow-weak-secrets) for a demo"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_80_bits_in_four_groups_of_an_unambiguous_alphabet() {
        let code = generate_start_code().unwrap();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(
            code.chars()
                .all(|c| c == '-' || ALPHABET.contains(&(c as u8)))
        );
        assert!(!code.contains(['I', 'L', 'O', 'U']));
        let phrase = generate_passphrase().unwrap();
        assert_eq!(phrase, phrase.to_ascii_lowercase());
        assert_ne!(generate_start_code().unwrap(), code);
    }

    #[test]
    fn guessable_codes_are_estimated_low_and_random_ones_high() {
        for weak in [
            "12345678",
            "7G4K-2QXM-9P",
            "DEMO-2026-START",
            "proctor passphrase",
            "correct horse battery staple",
        ] {
            assert!(estimated_bits(weak) < MIN_SECRET_BITS, "{weak}");
            assert!(check_strength("start code", weak, false).is_err(), "{weak}");
            assert!(check_strength("start code", weak, true).is_ok(), "{weak}");
        }
        for strong in ["7G4K-2QXM-9PZR-H3CW", "k3vq-9wxe-t2mh-r8ad-5bny"] {
            assert!(estimated_bits(strong) >= MIN_SECRET_BITS, "{strong}");
        }
    }
}
