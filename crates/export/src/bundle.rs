//! A proctor's signed results bundle (docs/export-format.md): what carries a venue's results
//! to the server when the network never came, on a USB stick.
//!
//! ```text
//! line 1   {"format":"sqlexam-bundle/1","manifest":"<manifest JSON>","signature":"<hex>"}
//! line 2…  the records, verbatim, one {"bytes","signature"} line each: a sync batch
//! ```
//!
//! The manifest names the pack, the venue, the roster (candidate ↔ device key per session),
//! the receipts the device holds (checkpoints and inclusion proofs), and the SHA-256 of the
//! record lines. The proctor key of the pack (derived from the proctor passphrase) signs
//! `bundle=<SHA-256 of the manifest bytes>` under the proctor domain — a statement no
//! proctor action can be mistaken for (those start with `session=`). Signed bytes, not
//! structures: the manifest travels as the exact string that was signed.
//!
//! Importing a bundle is a sync by hand: its record lines are a batch, verified record by
//! record; a record the server holds already is not stored again, so exporting twice, or
//! from several machines, never duplicates anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sqlexam_core::crypto::{PublicKey, sha256_hex};
use sqlexam_core::encoding::{hex, unhex};
use sqlexam_core::pack::{PROCTOR_DOMAIN, ProctorSigner};
use sqlexam_core::record::{
    Event, Expectations, Finding, PackRef, Record, SignedRecord, parse_export, verify_records,
};
use sqlexam_core::session::{
    HeldReceipts, ReceiptReport, StoredCheckpoint, StoredReceipt, check_receipts,
};

pub const FORMAT: &str = "sqlexam-bundle/1";
/// The file name extension of bundles.
pub const EXTENSION: &str = "sqlexam-bundle";
/// The largest bundle read (a venue's relay export included).
pub const MAX_BYTES: usize = 256 << 20;

/// What a bundle says about itself; signed by the proctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub created_at: String,
    /// The venue (room) as the proctor named it; may be empty.
    pub venue: String,
    pub pack: PackRef,
    /// The pack's proctor public key (raw Ed25519, hex) that signed this manifest.
    pub proctor_key: String,
    /// How many record lines follow, and the SHA-256 (hex) of those lines' bytes.
    pub records: u64,
    pub records_sha256: String,
    pub roster: Vec<RosterEntry>,
    pub receipts: Vec<ServerReceipts>,
}

/// Who sat a session, on which device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterEntry {
    pub session: String,
    pub candidate: String,
    pub name: String,
    /// Key id of the device.
    pub device: String,
    /// The device's raw Ed25519 public key (hex), as its first record names it.
    pub device_public_key: String,
    /// The records of the session in this bundle, and the highest seq.
    pub records: u64,
    pub last_seq: u64,
}

/// What one server proved to the device: every checkpoint it received (in order, each with
/// the consistency proof from the one before) and each record's inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerReceipts {
    pub url: String,
    /// The server's public key (hex) as the device pinned it.
    pub public_key: String,
    pub checkpoints: Vec<BundleCheckpoint>,
    pub proofs: Vec<BundleProof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCheckpoint {
    pub size: u64,
    /// The signed note as the server sent it.
    pub note: String,
    pub consistency: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleProof {
    pub session: String,
    pub seq: u64,
    pub leaf: u64,
    /// The size of the checkpoint the proof is against.
    pub size: u64,
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    manifest: String,
    signature: String,
}

/// Why a bundle cannot be made or read. Each names what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Empty(String),
    #[error("the bundle is {0} bytes; at most {MAX_BYTES} are read")]
    TooLarge(usize),
}

impl sqlexam_core::ErrorCode for BundleError {
    fn code(&self) -> &'static str {
        match self {
            BundleError::Malformed(_) => "bad_bundle",
            BundleError::Empty(_) => "empty_bundle",
            BundleError::TooLarge(_) => "too_large",
        }
    }
}

/// The statement the proctor signs for a manifest.
fn statement(manifest_bytes: &[u8]) -> String {
    format!("bundle={}", sha256_hex(manifest_bytes))
}

/// What goes into a bundle.
pub struct Contents<'a> {
    /// Every record at hand (a store's); only those of `pack` are taken.
    pub records: &'a [SignedRecord],
    pub receipts: &'a HeldReceipts,
    pub pack: &'a PackRef,
    pub venue: &'a str,
    pub created_at: &'a str,
}

/// Builds a bundle of the records of `contents.pack`, signed by the proctor.
pub fn create(
    contents: &Contents<'_>,
    proctor: &ProctorSigner,
    proctor_key: &PublicKey,
) -> Result<Vec<u8>, BundleError> {
    let mut taken = Vec::new();
    for r in contents.records {
        let record: Record = serde_json::from_slice(&r.bytes)
            .map_err(|e| BundleError::Malformed(format!("a stored record is not a record: {e}")))?;
        if record.pack.hash == contents.pack.hash {
            taken.push((record, r));
        }
    }
    if taken.is_empty() {
        return Err(BundleError::Empty(format!(
            "this machine holds no records of pack {} {} ({})",
            contents.pack.id, contents.pack.version, contents.pack.hash
        )));
    }
    taken.sort_by(|(a, _), (b, _)| (&a.session, a.seq).cmp(&(&b.session, b.seq)));
    let mut body = String::new();
    for (_, r) in &taken {
        body.push_str(&r.to_export_line());
        body.push('\n');
    }
    let records: Vec<Record> = taken.iter().map(|(r, _)| r.clone()).collect();
    let sessions: BTreeSet<&str> = records.iter().map(|r| r.session.as_str()).collect();
    let manifest = Manifest {
        created_at: contents.created_at.into(),
        venue: contents.venue.into(),
        pack: contents.pack.clone(),
        proctor_key: proctor_key.to_hex(),
        records: taken.len() as u64,
        records_sha256: sha256_hex(body.as_bytes()),
        roster: roster(&records),
        receipts: server_receipts(contents.receipts, &sessions),
    };
    let manifest_text = serde_json::to_string(&manifest)
        .map_err(|e| BundleError::Malformed(format!("cannot write the manifest: {e}")))?;
    let signature = proctor.sign(&statement(manifest_text.as_bytes()));
    let header = Header {
        format: FORMAT.into(),
        manifest: manifest_text,
        signature: hex(&signature),
    };
    let mut out = serde_json::to_string(&header)
        .map_err(|e| BundleError::Malformed(format!("cannot write the header: {e}")))?;
    out.push('\n');
    out.push_str(&body);
    Ok(out.into_bytes())
}

/// The roster of the sessions `records` hold (one entry per session).
fn roster(records: &[Record]) -> Vec<RosterEntry> {
    let mut out: BTreeMap<&str, RosterEntry> = BTreeMap::new();
    for r in records {
        let e = out.entry(&r.session).or_insert_with(|| RosterEntry {
            session: r.session.clone(),
            candidate: r.candidate.clone(),
            name: String::new(),
            device: r.device.clone(),
            device_public_key: String::new(),
            records: 0,
            last_seq: 0,
        });
        e.records += 1;
        e.last_seq = e.last_seq.max(r.seq);
        if let Event::SessionStarted {
            candidate_name,
            device_public_key,
            ..
        } = &r.event
        {
            e.name = candidate_name.clone();
            e.device_public_key = device_public_key.clone();
        }
    }
    out.into_values().collect()
}

/// The receipts held for `sessions`, per server, with every checkpoint of those servers
/// (so their consistency chain can be followed).
fn server_receipts(held: &HeldReceipts, sessions: &BTreeSet<&str>) -> Vec<ServerReceipts> {
    held.servers
        .iter()
        .filter_map(|(url, public_key)| {
            let key_id = PublicKey::from_hex(public_key)?.key_id();
            let proofs: Vec<BundleProof> = held
                .receipts
                .iter()
                .filter(|r| r.server == key_id && sessions.contains(r.session.as_str()))
                .map(|r| BundleProof {
                    session: r.session.clone(),
                    seq: r.seq,
                    leaf: r.leaf,
                    size: r.size,
                    proof: r.proof.clone(),
                })
                .collect();
            let checkpoints: Vec<BundleCheckpoint> = held
                .checkpoints
                .iter()
                .filter(|c| c.server == key_id)
                .map(|c| BundleCheckpoint {
                    size: c.size,
                    note: c.note.clone(),
                    consistency: c.consistency.clone(),
                })
                .collect();
            (!proofs.is_empty() || !checkpoints.is_empty()).then(|| ServerReceipts {
                url: url.clone(),
                public_key: public_key.clone(),
                checkpoints,
                proofs,
            })
        })
        .collect()
}

/// A bundle as read: its manifest as signed, and its records as they travel.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Manifest,
    manifest_bytes: Vec<u8>,
    signature: Vec<u8>,
    /// The record lines, exactly as in the file (a sync batch body).
    pub body: Vec<u8>,
    pub records: Vec<SignedRecord>,
    /// Record lines that could not be read (line numbers of the file).
    pub unreadable: Vec<Finding>,
}

/// Reads a bundle's structure (nothing is trusted yet: see [`verify`]).
pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
    if bytes.len() > MAX_BYTES {
        return Err(BundleError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        BundleError::Malformed(format!(
            "not a bundle: not UTF-8 text from byte {}",
            e.valid_up_to()
        ))
    })?;
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let header: Header = serde_json::from_str(first).map_err(|e| {
        BundleError::Malformed(format!(
            "line 1: not a bundle header ({e}); a bundle starts with {{\"format\":\"{FORMAT}\",…}}"
        ))
    })?;
    if header.format != FORMAT {
        return Err(BundleError::Malformed(format!(
            "line 1: format {:?} is not {FORMAT:?}",
            header.format
        )));
    }
    let manifest: Manifest = serde_json::from_str(&header.manifest)
        .map_err(|e| BundleError::Malformed(format!("line 1: the manifest: {e}")))?;
    let signature = unhex(&header.signature)
        .filter(|s| s.len() == 64)
        .ok_or_else(|| {
            BundleError::Malformed("line 1: the signature is not 64 bytes of hex".into())
        })?;
    let (records, mut unreadable) = parse_export(body);
    for f in &mut unreadable {
        if let Finding::Unparsable {
            line: Some(line), ..
        } = f
        {
            *line += 1;
        }
    }
    Ok(Bundle {
        manifest,
        manifest_bytes: header.manifest.into_bytes(),
        signature,
        body: body.as_bytes().to_vec(),
        records,
        unreadable,
    })
}

impl Bundle {
    /// Whether the manifest's own proctor key signed it.
    pub fn signed_by(&self, key: &PublicKey) -> bool {
        key.verify(
            PROCTOR_DOMAIN,
            statement(&self.manifest_bytes).as_bytes(),
            &self.signature,
        )
    }

    /// SHA-256 (hex) of the whole signed manifest: the bundle's fingerprint.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.manifest_bytes)
    }

    /// The held receipts in the store's shape, per server.
    pub fn held_receipts(&self) -> HeldReceipts {
        let mut out = HeldReceipts::default();
        for s in &self.manifest.receipts {
            let Some(key_id) = PublicKey::from_hex(&s.public_key).map(|k| k.key_id()) else {
                continue;
            };
            out.servers.push((s.url.clone(), s.public_key.clone()));
            out.checkpoints
                .extend(s.checkpoints.iter().map(|c| StoredCheckpoint {
                    server: key_id.clone(),
                    size: c.size,
                    note: c.note.clone(),
                    consistency: c.consistency.clone(),
                    received_wall_ms: 0,
                }));
            out.receipts.extend(s.proofs.iter().map(|p| StoredReceipt {
                server: key_id.clone(),
                session: p.session.clone(),
                seq: p.seq,
                leaf: p.leaf,
                size: p.size,
                proof: p.proof.clone(),
            }));
        }
        out
    }
}

/// What a verifier knows besides the bundle.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The pack's hash and proctor key, from a pack file the verifier trusts (or the server's
    /// copy); `None`: the proctor key is taken from the bundle and said to be unchecked.
    pub pack: Option<(String, Option<PublicKey>)>,
    /// Server keys the verifier trusts; receipts of other servers are checked with the key
    /// the bundle names, and said so.
    pub server_keys: Vec<PublicKey>,
}

/// One server's receipts, checked.
#[derive(Debug, Clone)]
pub struct ServerCheck {
    pub url: String,
    pub key_id: String,
    /// Whether the key was one the verifier gave (else the bundle's own).
    pub key_trusted: bool,
    pub report: ReceiptReport,
    /// Records proven, by the newest checkpoint size they are proven against.
    pub log_size: u64,
}

/// What checking a bundle found.
#[derive(Debug, Clone)]
pub struct BundleReport {
    pub manifest: Manifest,
    pub fingerprint: String,
    pub proctor_key_id: String,
    pub signature_valid: bool,
    /// `None`: no pack given; `Some(true)`: the pack's proctor key signed it.
    pub pack_key_matches: Option<bool>,
    /// Whether the record lines are the ones the manifest counts and digests.
    pub records_intact: bool,
    pub records: usize,
    pub sessions: usize,
    pub candidates: usize,
    pub devices: usize,
    /// Record verification: signatures, chains, proctor proofs.
    pub findings: Vec<Finding>,
    pub servers: Vec<ServerCheck>,
    /// Every failure, one sentence each (findings and receipt problems included).
    pub problems: Vec<String>,
    /// The records that verified.
    pub verified: Vec<Record>,
}

impl BundleReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks everything a bundle claims, offline: the proctor's signature, the record lines
/// against their digest, every record (signature, chain, proctor proofs), the roster, and
/// every receipt (checkpoint signatures, their consistency, each inclusion proof).
pub fn verify(bundle: &Bundle, known: &Known) -> BundleReport {
    let m = &bundle.manifest;
    let mut problems = Vec::new();
    let signer = PublicKey::from_hex(&m.proctor_key);
    let signature_valid = signer.as_ref().is_some_and(|k| bundle.signed_by(k));
    if !signature_valid {
        problems.push(format!(
            "the manifest's signature does not verify with the proctor key it names ({})",
            m.proctor_key
        ));
    }
    let pack_key_matches = known.pack.as_ref().map(|(hash, key)| {
        if *hash != m.pack.hash {
            problems.push(format!(
                "the bundle is of pack {}, not of the pack given ({hash})",
                m.pack.hash
            ));
            return false;
        }
        match key {
            Some(k) if Some(*k) == signer => true,
            Some(k) => {
                problems.push(format!(
                    "the bundle is signed by proctor key {}, not by the pack's ({})",
                    signer.map(|s| s.key_id()).unwrap_or_default(),
                    k.key_id()
                ));
                false
            }
            None => {
                problems.push("the pack allows no proctor, so no proctor can sign a bundle".into());
                false
            }
        }
    });
    let digest_ok = sha256_hex(&bundle.body) == m.records_sha256;
    let count_ok = bundle.records.len() as u64 + bundle.unreadable.len() as u64 == m.records;
    if !digest_ok {
        problems.push(
            "the record lines are not the ones signed (their SHA-256 differs from the manifest's)"
                .into(),
        );
    }
    if !count_ok {
        problems.push(format!(
            "the manifest counts {} records; the bundle holds {} lines",
            m.records,
            bundle.records.len() + bundle.unreadable.len()
        ));
    }
    let proctor_key = match &known.pack {
        Some((_, key)) => *key,
        None => signer,
    };
    let expect = Expectations {
        device: None,
        proctor_keys: BTreeMap::from([(m.pack.hash.clone(), proctor_key)]),
    };
    let (verified, mut findings) = verify_records(&bundle.records, &expect);
    findings.splice(0..0, bundle.unreadable.iter().cloned());
    problems.extend(findings.iter().map(ToString::to_string));
    for r in &verified {
        if r.pack.hash != m.pack.hash {
            problems.push(format!(
                "session {}, seq {}: a record of pack {}, not of the bundle's",
                r.session, r.seq, r.pack.hash
            ));
        }
    }
    check_roster(&m.roster, &verified, &mut problems);

    let held = bundle.held_receipts();
    let mut servers = Vec::new();
    for s in &m.receipts {
        let Some(named) = PublicKey::from_hex(&s.public_key) else {
            problems.push(format!(
                "receipts of {}: the server key is not a key ({:?})",
                s.url, s.public_key
            ));
            continue;
        };
        let trusted = known.server_keys.contains(&named);
        let key_id = named.key_id();
        let checkpoints: Vec<StoredCheckpoint> = held
            .checkpoints
            .iter()
            .filter(|c| c.server == key_id)
            .cloned()
            .collect();
        let proofs: Vec<StoredReceipt> = held
            .receipts
            .iter()
            .filter(|c| c.server == key_id)
            .cloned()
            .collect();
        let report = check_receipts(&checkpoints, &proofs, &bundle.records, &[], &[named]);
        problems.extend(
            report
                .problems
                .iter()
                .map(|p| format!("receipts of {}: {p}", s.url)),
        );
        servers.push(ServerCheck {
            url: s.url.clone(),
            key_id,
            key_trusted: trusted,
            log_size: checkpoints.iter().map(|c| c.size).max().unwrap_or(0),
            report,
        });
    }
    let distinct =
        |f: fn(&RosterEntry) -> &str| m.roster.iter().map(f).collect::<BTreeSet<_>>().len();
    BundleReport {
        manifest: m.clone(),
        fingerprint: bundle.fingerprint(),
        proctor_key_id: signer.map(|k| k.key_id()).unwrap_or_default(),
        signature_valid,
        pack_key_matches,
        records_intact: digest_ok && count_ok,
        records: bundle.records.len(),
        sessions: m.roster.len(),
        candidates: distinct(|r| r.candidate.as_str()),
        devices: distinct(|r| r.device.as_str()),
        findings,
        servers,
        problems,
        verified,
    }
}

/// The roster must be exactly the sessions the records hold, as their first records say.
fn check_roster(roster: &[RosterEntry], verified: &[Record], problems: &mut Vec<String>) {
    let expected: HashMap<String, RosterEntry> = self::roster(verified)
        .into_iter()
        .map(|e| (e.session.clone(), e))
        .collect();
    let mut seen = BTreeSet::new();
    for e in roster {
        if !seen.insert(e.session.as_str()) {
            problems.push(format!("the roster lists session {} twice", e.session));
            continue;
        }
        match expected.get(&e.session) {
            None => problems.push(format!(
                "the roster lists session {} ({}), whose records do not verify or are missing",
                e.session, e.candidate
            )),
            Some(x) if x != e => problems.push(format!(
                "the roster's entry for session {} (candidate {:?}, device {}) is not what its records say (candidate {:?}, device {}, {} records)",
                e.session, e.candidate, e.device, x.candidate, x.device, x.records
            )),
            Some(_) => {}
        }
    }
    for s in expected.keys() {
        if !seen.contains(s.as_str()) {
            problems.push(format!("session {s} has records but no roster entry"));
        }
    }
}

/// Joins the verified records of several bundles (or exports) without duplicates: the
/// same record from two bundles counts once.
pub fn merge_records(sets: &[&[SignedRecord]]) -> Vec<SignedRecord> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for set in sets {
        for r in *set {
            if seen.insert(sha256_hex(&r.bytes)) {
                out.push(r.clone());
            }
        }
    }
    out
}
