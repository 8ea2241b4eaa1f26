//! The server's append-only record log, as a device (or relay, or auditor) checks it.
//!
//! Every record a server takes into a session's chain becomes a leaf of one RFC 6962 Merkle
//! tree: leaf `i` is the `i`-th record stored, its data the record's exact signed bytes. The
//! server signs its tree head as a [C2SP checkpoint](https://c2sp.org/tlog-checkpoint) in a
//! [C2SP signed note](https://c2sp.org/signed-note) with its Ed25519 key; a receipt is such
//! a checkpoint plus an inclusion proof per record; a device keeps its newest checkpoint and
//! accepts a newer one only with a consistency proof from it. The tree arithmetic is
//! `tlog_tiles` (a port of Go's `sumdb/tlog`), the note format `signed_note`; the
//! signatures are ring's. docs/sync.md describes the same checks for OpenSSL and Python.
//!
//! The one piece of the server's side here is [`append`]: the tree maths of adding leaves
//! to a log stored as `sumdb/tlog` stores it, which each of the server's storage backends
//! runs inside its own transaction.

use std::collections::HashMap;

use signed_note::{Note, Signer, Verifier, VerifierList};
pub use tlog_tiles::Hash;
use tlog_tiles::{
    Checkpoint as TreeHead, EMPTY_HASH, HashReader, check_record, check_tree, record_hash,
    stored_hash_index, stored_hashes_for_record_hash, sub_tree_index, tree_hash,
};

use crate::crypto::{PublicKey, SigningKey};

/// A log's origin line is this followed by the server's key id.
pub const ORIGIN_PREFIX: &str = "sqlexam/log/";

/// Signed-note algorithm byte of Ed25519 (c2sp.org/signed-note).
const ALG_ED25519: u8 = 0x01;

/// Why a checkpoint or proof was refused. Each is evidence against the server that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("the checkpoint is not a well-formed signed note: {0}")]
    Malformed(String),
    #[error("the checkpoint is not signed by server key {0}")]
    Unsigned(String),
    #[error("the checkpoint is for log {found:?}, not this server's log {expected:?}")]
    OtherLog { expected: String, found: String },
    #[error(
        "the server's proof that record {seq} of session {session} is in its log does not verify: it holds something else there"
    )]
    Inclusion { session: String, seq: u64 },
    #[error(
        "the server's log of {new} records is not an extension of the {old} records it showed before: it rewrote or dropped history"
    )]
    Inconsistent { old: u64, new: u64 },
    #[error("a proof hash is not base64 SHA-256: {0:?}")]
    BadHash(String),
}

impl crate::ErrorCode for LogError {
    fn code(&self) -> &'static str {
        match self {
            LogError::Malformed(_) | LogError::BadHash(_) => "log_malformed",
            LogError::Unsigned(_) | LogError::OtherLog { .. } => "log_signature",
            LogError::Inclusion { .. } => "log_inclusion",
            LogError::Inconsistent { .. } => "log_inconsistent",
        }
    }
}

/// The origin (and note key name) of the log signed by `server`.
pub fn origin(server: &PublicKey) -> String {
    format!("{ORIGIN_PREFIX}{}", server.key_id())
}

/// The leaf hash of a record: SHA-256(0x00 ‖ its signed bytes).
pub fn leaf_hash(record_bytes: &[u8]) -> Hash {
    record_hash(record_bytes)
}

/// A verified tree head.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note exactly as received (what a device stores and an auditor re-checks).
    pub note: String,
}

fn signed_note_key_id(name: &str, key: &PublicKey) -> u32 {
    let mut encoded = vec![ALG_ED25519];
    encoded.extend_from_slice(key.raw());
    signed_note::key_id(name, &encoded)
}

struct NoteSigner<'a> {
    name: String,
    id: u32,
    key: &'a SigningKey,
}

impl Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        // The note's text starts with the origin, which no domain prefix of ours does
        // (`sqlexam/log/…` against `sqlexam record v1\n`, …), so a plain signature over it
        // cannot pass for a record, pack or proctor signature.
        Ok(self.key.sign(b"", msg).to_vec())
    }
}

struct NoteVerifier {
    name: String,
    id: u32,
    key: PublicKey,
}

impl Verifier for NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.verify(b"", msg, sig)
    }
}

/// The server's signed checkpoint of its tree of `size` leaves with root `root`.
pub fn sign_checkpoint(key: &SigningKey, size: u64, root: Hash) -> String {
    let public = key.public();
    let name = origin(&public);
    let head = TreeHead::new(&name, size, root, "").expect("the origin is a valid line");
    let mut note = Note::new(&head.to_bytes(), &[]).expect("a checkpoint is a valid note text");
    let signer = NoteSigner {
        id: signed_note_key_id(&name, &public),
        name,
        key,
    };
    note.add_sigs(&[&signer])
        .expect("the origin is a valid key name");
    String::from_utf8(note.to_bytes()).expect("a note is UTF-8")
}

/// The tree head in `note`, if `server` signed it for its own log.
pub fn open_checkpoint(note: &str, server: &PublicKey) -> Result<Checkpoint, LogError> {
    let name = origin(server);
    let parsed =
        Note::from_bytes(note.as_bytes()).map_err(|e| LogError::Malformed(e.to_string()))?;
    let verifier = NoteVerifier {
        id: signed_note_key_id(&name, server),
        name: name.clone(),
        key: *server,
    };
    parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|_| LogError::Unsigned(server.key_id()))?;
    let head = TreeHead::from_bytes(parsed.text())
        .map_err(|_| LogError::Malformed("not a checkpoint (origin, size, root)".into()))?;
    if head.origin() != name {
        return Err(LogError::OtherLog {
            expected: name,
            found: head.origin().to_owned(),
        });
    }
    Ok(Checkpoint {
        size: head.size(),
        root: *head.hash(),
        note: note.to_owned(),
    })
}

/// Hashes as they travel: base64, as in checkpoints.
pub fn encode_proof(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_string).collect()
}

pub fn decode_proof(proof: &[String]) -> Result<Vec<Hash>, LogError> {
    proof
        .iter()
        .map(|h| Hash::parse_hash(h).map_err(|_| LogError::BadHash(h.clone())))
        .collect()
}

/// Checks that `record_bytes` (record `seq` of `session`) is leaf `leaf` of `checkpoint`'s tree.
pub fn check_inclusion(
    checkpoint: &Checkpoint,
    leaf: u64,
    record_bytes: &[u8],
    proof: &[Hash],
    session: &str,
    seq: u64,
) -> Result<(), LogError> {
    let refused = || LogError::Inclusion {
        session: session.to_owned(),
        seq,
    };
    // A tree of at most 2^64 leaves has audit paths of at most 64 hashes.
    if leaf >= checkpoint.size || proof.len() > 64 {
        return Err(refused());
    }
    check_record(
        &proof.to_vec(),
        checkpoint.size,
        checkpoint.root,
        leaf,
        leaf_hash(record_bytes),
    )
    .map_err(|_| refused())
}

/// Checks that `new` extends `old` (either may be the larger: both must be one history).
/// Trees of equal size must have equal roots; `proof` is the consistency proof between
/// the smaller and the larger.
pub fn check_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), LogError> {
    let refused = || LogError::Inconsistent {
        old: old.size,
        new: new.size,
    };
    let (small, large) = if old.size <= new.size {
        (old, new)
    } else {
        (new, old)
    };
    if small.size == large.size {
        return if small.root == large.root {
            Ok(())
        } else {
            Err(refused())
        };
    }
    if small.size == 0 {
        // Every tree extends the empty one.
        return Ok(());
    }
    // At most two paths of 64 hashes.
    if proof.len() > 128 {
        return Err(refused());
    }
    check_tree(
        &proof.to_vec(),
        large.size,
        large.root,
        small.size,
        small.root,
    )
    .map_err(|_| refused())
}

/// Stored hashes held in memory, by stored-hash index, as `tlog_tiles` reads them.
pub struct StoredHashes<'a>(pub &'a HashMap<u64, Hash>);

impl HashReader for StoredHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// What appending leaves wrote: every stored hash the tree completed, by index, and the
/// new head.
#[derive(Debug)]
pub struct Appended {
    pub hashes: Vec<(u64, Hash)>,
    pub size: u64,
    pub root: Hash,
}

/// The stored-hash indexes that appending to a tree of `size` leaves reads: the roots of
/// its complete subtrees.
pub fn frontier(size: u64) -> Vec<u64> {
    if size == 0 {
        Vec::new()
    } else {
        sub_tree_index(0, size, Vec::new())
    }
}

/// Appends leaves (their [`leaf_hash`]es) to a tree of `size` leaves whose [`frontier`]
/// hashes are `known`. Fails only when `known` lacks one of them (a damaged log).
pub fn append(
    size: u64,
    known: Vec<(u64, Hash)>,
    leaves: impl IntoIterator<Item = Hash>,
) -> Result<Appended, tlog_tiles::Error> {
    let mut map: HashMap<u64, Hash> = known.into_iter().collect();
    let mut hashes = Vec::new();
    let mut n = size;
    for leaf in leaves {
        let new = stored_hashes_for_record_hash(n, leaf, &StoredHashes(&map))?;
        let first = stored_hash_index(0, n);
        for (k, h) in new.into_iter().enumerate() {
            map.insert(first + k as u64, h);
            hashes.push((first + k as u64, h));
        }
        n += 1;
    }
    let root = if n == 0 {
        EMPTY_HASH
    } else {
        tree_hash(n, &StoredHashes(&map))?
    };
    Ok(Appended {
        hashes,
        size: n,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::{HashReader, prove_record, prove_tree, stored_hashes, tree_hash};

    /// A log kept in memory the way the server keeps it in tables (stored hashes by index).
    #[derive(Default)]
    struct MemLog {
        hashes: Vec<Hash>,
        size: u64,
    }

    impl HashReader for MemLog {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            Ok(indexes.iter().map(|&i| self.hashes[i as usize]).collect())
        }
    }

    impl MemLog {
        fn append(&mut self, data: &[u8]) {
            let new = stored_hashes(self.size, data, self).unwrap();
            self.hashes.extend(new);
            self.size += 1;
        }

        fn checkpoint(&self, key: &SigningKey) -> Checkpoint {
            let note = sign_checkpoint(key, self.size, tree_hash(self.size, self).unwrap());
            open_checkpoint(&note, &key.public()).unwrap()
        }
    }

    #[test]
    fn a_checkpoint_opens_only_with_its_server_key_and_exact_text() {
        let key = SigningKey::generate().unwrap();
        let mut log = MemLog::default();
        log.append(b"r1");
        let cp = log.checkpoint(&key);
        assert_eq!(cp.size, 1);
        assert!(
            cp.note
                .starts_with(&format!("{}\n1\n", origin(&key.public())))
        );
        let other = SigningKey::generate().unwrap();
        assert!(matches!(
            open_checkpoint(&cp.note, &other.public()),
            Err(LogError::Unsigned(_))
        ));
        let edited = cp.note.replacen("\n1\n", "\n2\n", 1);
        assert!(open_checkpoint(&edited, &key.public()).is_err());
        assert!(matches!(
            open_checkpoint("not a note", &key.public()),
            Err(LogError::Malformed(_))
        ));
    }

    #[test]
    fn inclusion_and_consistency_proofs_verify_and_catch_a_rewritten_history() {
        let key = SigningKey::generate().unwrap();
        let mut log = MemLog::default();
        for i in 0..5u8 {
            log.append(&[i]);
        }
        let old = log.checkpoint(&key);
        for i in 5..13u8 {
            log.append(&[i]);
        }
        let new = log.checkpoint(&key);
        for leaf in 0..13u64 {
            let proof = prove_record(new.size, leaf, &log).unwrap();
            check_inclusion(&new, leaf, &[leaf as u8], &proof, "s", leaf + 1).unwrap();
            assert!(check_inclusion(&new, leaf, b"other", &proof, "s", leaf + 1).is_err());
        }
        let proof = prove_tree(new.size, old.size, &log).unwrap();
        check_consistency(&old, &new, &proof).unwrap();
        check_consistency(&new, &old, &proof).unwrap();

        // A log that dropped record 3 and carried on.
        let mut rewritten = MemLog::default();
        for i in (0..14u8).filter(|&i| i != 3) {
            rewritten.append(&[i]);
        }
        let forged = rewritten.checkpoint(&key);
        let proof = prove_tree(forged.size, old.size, &rewritten).unwrap();
        assert_eq!(
            check_consistency(&old, &forged, &proof),
            Err(LogError::Inconsistent { old: 5, new: 13 })
        );
        // Same size, another root.
        let mut same = MemLog::default();
        for i in (0..6u8).filter(|&i| i != 3) {
            same.append(&[i]);
        }
        assert!(check_consistency(&old, &same.checkpoint(&key), &[]).is_err());
        assert!(check_inclusion(&old, 7, &[7], &[], "s", 8).is_err());
        // Paths longer than any tree's are refused before any work.
        let long = vec![Hash([0; 32]); 65];
        assert!(check_inclusion(&new, 0, &[0], &long, "s", 1).is_err());
        let long = vec![Hash([0; 32]); 129];
        assert!(check_consistency(&old, &new, &long).is_err());
    }

    #[test]
    fn appending_in_steps_gives_the_tree_of_appending_at_once() {
        let leaves: Vec<Vec<u8>> = (0..37u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let all = append(0, Vec::new(), leaves.iter().map(|l| leaf_hash(l))).unwrap();
        let mut stored: HashMap<u64, Hash> = HashMap::new();
        let mut size = 0;
        for chunk in leaves.chunks(5) {
            let known = frontier(size)
                .into_iter()
                .map(|i| (i, stored[&i]))
                .collect();
            let step = append(size, known, chunk.iter().map(|l| leaf_hash(l))).unwrap();
            stored.extend(step.hashes);
            size = step.size;
        }
        assert_eq!(size, 37);
        assert_eq!(tree_hash(37, &StoredHashes(&stored)).unwrap(), all.root);
        assert_eq!(stored.len(), all.hashes.len());
    }
}
