//! Witness cosignatures of the record log's checkpoints, as c2sp.org/tlog-cosignature
//! defines them (`cosignature/v1`): a witness that checked a checkpoint's signature and its
//! consistency with the last one it cosigned adds a signature line of its own key to the
//! checkpoint's signed note. The line signs `cosignature/v1\ntime <t>\n` followed by the
//! checkpoint's text, and carries the time before the Ed25519 signature. The note format is
//! the `signed_note` crate's; this module only says what is signed.

use signed_note::{Note, Signer, Verifier, VerifierList};

use crate::crypto::{PublicKey, SigningKey};
use crate::tlog::LogError;

/// A witness's key name is this followed by its key id.
pub const WITNESS_PREFIX: &str = "sqlexam/witness/";

/// Signed-note algorithm byte of cosignature/v1.
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The name `witness` signs under.
pub fn witness_name(witness: &PublicKey) -> String {
    format!("{WITNESS_PREFIX}{}", witness.key_id())
}

fn key_id(name: &str, key: &PublicKey) -> u32 {
    let mut encoded = vec![ALG_COSIGNATURE_V1];
    encoded.extend_from_slice(key.raw());
    signed_note::key_id(name, &encoded)
}

/// What a cosignature at `time` signs over a checkpoint's `text`.
fn message(time: u64, text: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(text);
    m
}

struct CoSigner<'a> {
    name: String,
    id: u32,
    key: &'a SigningKey,
    time: u64,
}

impl Signer for CoSigner<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut sig = self.time.to_be_bytes().to_vec();
        sig.extend_from_slice(&self.key.sign(b"", &message(self.time, msg)));
        Ok(sig)
    }
}

struct CoVerifier {
    name: String,
    id: u32,
    key: PublicKey,
}

impl Verifier for CoVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some((time, signature)) = sig.split_first_chunk::<8>() else {
            return false;
        };
        signature.len() == 64
            && self
                .key
                .verify(b"", &message(u64::from_be_bytes(*time), msg), signature)
    }
}

/// `witness`'s cosignature of the checkpoint `note` (already opened and checked by the
/// caller), at `time` (Unix seconds): one signature line, ending in a newline.
pub fn cosign(note: &str, witness: &SigningKey, time: u64) -> Result<String, LogError> {
    let parsed =
        Note::from_bytes(note.as_bytes()).map_err(|e| LogError::Malformed(e.to_string()))?;
    let public = witness.public();
    let name = witness_name(&public);
    let signer = CoSigner {
        id: key_id(&name, &public),
        name,
        key: witness,
        time,
    };
    let mut bare = Note::new(parsed.text(), &[]).map_err(|e| LogError::Malformed(e.to_string()))?;
    bare.add_sigs(&[&signer])
        .map_err(|e| LogError::Malformed(e.to_string()))?;
    let signed = String::from_utf8(bare.to_bytes())
        .map_err(|_| LogError::Malformed("the note is not UTF-8".into()))?;
    // The note is its text, an empty line, then the one line just added.
    Ok(signed[parsed.text().len() + 1..].to_owned())
}

/// `note` with the signature `lines` added after its own.
pub fn with_cosignatures(note: &str, lines: &[String]) -> String {
    let mut out = note.to_owned();
    for line in lines {
        out.push_str(line);
    }
    out
}

/// Those of `witnesses` whose cosignature on `note` verifies.
pub fn cosigned_by(note: &str, witnesses: &[PublicKey]) -> Vec<PublicKey> {
    let Ok(parsed) = Note::from_bytes(note.as_bytes()) else {
        return Vec::new();
    };
    witnesses
        .iter()
        .filter(|w| {
            let name = witness_name(w);
            let verifier = CoVerifier {
                id: key_id(&name, w),
                name,
                key: **w,
            };
            parsed
                .verify(&VerifierList::new(vec![Box::new(verifier)]))
                .is_ok()
        })
        .copied()
        .collect()
}

/// A c2sp.org/tlog-witness `add-checkpoint` request: the size of the checkpoint the sender
/// believes the witness last cosigned, the consistency proof from it (base64 hashes), and
/// the new checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<String>,
    pub checkpoint: String,
}

/// The most proof lines a request may carry (a consistency proof of a tree of 2⁶⁴ leaves
/// has fewer).
pub const MAX_PROOF_LINES: usize = 63;

impl AddCheckpoint {
    /// The request body: `old N`, a proof line each, an empty line, the checkpoint.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old);
        for p in &self.proof {
            body.push_str(p);
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    /// Reads a request body; the error names what is wrong.
    pub fn parse(body: &str) -> Result<AddCheckpoint, String> {
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or("no empty line between the proof and the checkpoint")?;
        let mut lines = head.lines();
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or("the first line is not `old <size>`")?;
        let old: u64 = old
            .parse()
            .map_err(|_| format!("`old {old}`: not a size"))?;
        let proof: Vec<String> = lines.map(str::to_owned).collect();
        if proof.len() > MAX_PROOF_LINES {
            return Err(format!("more than {MAX_PROOF_LINES} proof lines"));
        }
        Ok(AddCheckpoint {
            old,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::{Hash, open_checkpoint, sign_checkpoint};

    #[test]
    fn a_cosignature_verifies_for_its_witness_and_checkpoint_only() {
        let server = SigningKey::generate().unwrap();
        let (w1, w2) = (
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
        );
        let note = sign_checkpoint(&server, 7, Hash([3; 32]));
        let line = cosign(&note, &w1, 1_765_000_000).unwrap();
        assert!(
            line.starts_with("— sqlexam/witness/") && line.ends_with('\n'),
            "{line}"
        );
        let cosigned = with_cosignatures(&note, std::slice::from_ref(&line));
        // Still the server's checkpoint, now also the witness's.
        assert_eq!(
            open_checkpoint(&cosigned, &server.public()).unwrap().size,
            7
        );
        let keys = [w1.public(), w2.public()];
        assert_eq!(cosigned_by(&cosigned, &keys), vec![w1.public()]);
        assert!(cosigned_by(&note, &keys).is_empty());
        // Moved onto another checkpoint, it proves nothing.
        let other = sign_checkpoint(&server, 8, Hash([3; 32]));
        assert!(cosigned_by(&with_cosignatures(&other, &[line]), &keys).is_empty());
    }

    #[test]
    fn an_add_checkpoint_request_reads_back_and_a_bad_one_is_named() {
        let r = AddCheckpoint {
            old: 5,
            proof: vec!["AAAA".into(), "BBBB".into()],
            checkpoint: "origin\n9\nroot\n\n— sig\n".into(),
        };
        assert_eq!(AddCheckpoint::parse(&r.to_body()), Ok(r));
        let empty = AddCheckpoint {
            old: 0,
            proof: Vec::new(),
            checkpoint: "c\n\n— s\n".into(),
        };
        assert_eq!(AddCheckpoint::parse(&empty.to_body()), Ok(empty));
        assert!(
            AddCheckpoint::parse("old x\n\nc")
                .unwrap_err()
                .contains("not a size")
        );
        assert!(
            AddCheckpoint::parse("new 1\n\nc")
                .unwrap_err()
                .contains("old")
        );
    }
}
