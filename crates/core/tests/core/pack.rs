//! Signed, sealed packs: build → verify → open gives the problems a source folder gives;
//! every kind of tampering, an untrusted or revoked signer, an expired endorsement, a
//! window or version out of bounds, and a wrong start code are refused by name.

use std::collections::BTreeSet;

use sqlexam_core::ErrorCode;
use sqlexam_core::crypto::SigningKey;
use sqlexam_core::grade::{Scope, grade};
use sqlexam_core::pack::{
    Anchor, BuildOptions, Endorsement, PackError, Trust, TrustPath, VerifiedPack, VerifyOptions,
    VersionLedger, build, verify,
};
use sqlexam_core::problem::{Localized, Problem};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::{data, dept_count, raise};

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn demo_key() -> SigningKey {
    SigningKey::from_pem(
        &std::fs::read_to_string(data("../../../../keys/demo/demo-organizer.key")).unwrap(),
    )
    .unwrap()
}

fn title() -> Localized {
    Localized {
        en: "Company".into(),
        ja: "会社".into(),
    }
}

fn problems() -> Vec<Problem> {
    vec![dept_count().clone(), raise().clone()]
}

fn options(key: &SigningKey) -> BuildOptions<'_> {
    BuildOptions {
        key,
        endorsements: Vec::new(),
        start_code: None,
        exam: Default::default(),
        proctor_passphrase: Some("proctor passphrase".into()),
        roster: None,
        created: datetime!(2026-01-01 0:00 UTC),
        not_before: datetime!(2026-01-01 0:00 UTC),
        not_after: datetime!(2027-01-01 0:00 UTC),
    }
}

fn pack_with(opts: &BuildOptions<'_>, version: &str) -> Vec<u8> {
    build(
        "company",
        &semver::Version::parse(version).unwrap(),
        &title(),
        &problems(),
        opts,
    )
    .unwrap()
}

fn trusting(keys: &[&SigningKey]) -> Trust {
    Trust {
        anchors: keys
            .iter()
            .map(|k| Anchor::new(&k.public(), "test anchor"))
            .collect(),
        revoked: Vec::new(),
    }
}

fn check(bytes: &[u8], trust: &Trust) -> Result<VerifiedPack, PackError> {
    verify(
        bytes,
        &VerifyOptions {
            trust,
            now: NOW,
            ledger: None,
            start_code: None,
        },
    )
}

#[test]
fn a_pack_opens_to_the_same_problems_and_verdicts_as_the_source() {
    let key = demo_key();
    let bytes = pack_with(&options(&key), "1.0.0");
    let pack = check(&bytes, &trusting(&[&key]))
        .unwrap()
        .open(None)
        .unwrap();
    assert_eq!(pack.problems.len(), 2);
    for (from_pack, from_source) in pack.problems.iter().zip(problems()) {
        assert_eq!(from_pack.id, from_source.id);
        assert_eq!(from_pack.datasets.len(), from_source.datasets.len());
        for sql in [
            "SELECT name, 1 FROM dept",
            "UPDATE emp SET salary = round(salary * 1.1) WHERE dept_id = 2",
            "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id",
        ] {
            let (a, b) = (
                grade(from_pack, sql, Scope::All),
                grade(&from_source, sql, Scope::All),
            );
            assert_eq!(
                (a.verdict, a.score),
                (b.verdict, b.score),
                "{sql} on {}",
                from_pack.id
            );
        }
    }
}

#[test]
fn builds_are_byte_for_byte_reproducible() {
    let key = demo_key();
    assert_eq!(
        pack_with(&options(&key), "1.0.0"),
        pack_with(&options(&key), "1.0.0")
    );
    let sealed = BuildOptions {
        start_code: Some("ABCD-1234-EF".into()),
        ..options(&key)
    };
    assert_eq!(pack_with(&sealed, "1.0.0"), pack_with(&sealed, "1.0.0"));
}

/// A deterministic xorshift, so the tamper corpus is the same on every run.
fn offsets(len: usize, n: usize) -> Vec<usize> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % len as u64) as usize
        })
        .collect()
}

#[test]
fn flipping_any_bit_is_refused_with_a_clear_error() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let bytes = pack_with(&options(&key), "1.0.0");
    let mut kinds = BTreeSet::new();
    for (i, at) in offsets(bytes.len(), 200).into_iter().enumerate() {
        let mut bad = bytes.clone();
        bad[at] ^= 1 << (i % 8);
        let err = match check(&bad, &trust).and_then(|v| v.open(None)) {
            Ok(_) => panic!("a bit flip at byte {at} was not noticed"),
            Err(e) => e,
        };
        assert!(!err.to_string().is_empty());
        kinds.insert(err.code());
    }
    // Flips land in headers, padding, the manifest, the signature and the contents alike.
    assert!(kinds.len() >= 3, "{kinds:?}");
}

#[test]
fn truncated_packs_are_refused() {
    let key = demo_key();
    let bytes = pack_with(&options(&key), "1.0.0");
    for len in [
        0,
        1,
        511,
        512,
        1024,
        1500,
        bytes.len() / 2,
        bytes.len() - 1024,
        bytes.len() - 512,
        bytes.len() - 1,
    ] {
        let err = check(&bytes[..len], &trusting(&[&key]))
            .err()
            .unwrap_or_else(|| panic!("{len} bytes accepted"));
        assert!(
            matches!(
                err,
                PackError::Truncated { .. } | PackError::NotAPack(_) | PackError::Entry { .. }
            ),
            "{len}: {err}"
        );
    }
}

/// Splits a canonical archive into (header+content+padding) blocks per entry.
fn entries(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at..at + 512].iter().any(|&b| b != 0) {
        let size = usize::from_str_radix(
            std::str::from_utf8(&bytes[at + 124..at + 135])
                .unwrap()
                .trim_matches('\0'),
            8,
        )
        .unwrap();
        let len = 512 + size.div_ceil(512) * 512;
        out.push(bytes[at..at + len].to_vec());
        at += len;
    }
    out
}

#[test]
fn reordered_swapped_and_extra_entries_are_refused() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let bytes = pack_with(&options(&key), "1.0.0");
    let parts = entries(&bytes);
    let trailer = vec![0u8; 1024];
    let assemble = |parts: &[Vec<u8>]| [parts.concat(), trailer.clone()].concat();
    assert!(
        check(&assemble(&parts), &trust).is_ok(),
        "the split is faithful"
    );

    let mut swapped = parts.clone();
    swapped.swap(4, 5);
    let err = check(&assemble(&swapped), &trust).err().unwrap();
    assert!(
        matches!(&err, PackError::Entry { what, .. } if what.contains("out of place")),
        "{err}"
    );

    let mut header_swap = parts.clone();
    header_swap.swap(0, 1);
    assert!(matches!(
        check(&assemble(&header_swap), &trust),
        Err(PackError::NotAPack(_))
    ));

    let mut extra = parts.clone();
    extra.push(parts[5].clone());
    let err = check(&assemble(&extra), &trust).err().unwrap();
    assert!(
        matches!(&err, PackError::Entry { what, .. } if what.contains("not listed")),
        "{err}"
    );

    // Swap in the same entry from another version of a sealed pack: its ciphertext differs,
    // so its hash is not this manifest's. (Unsealed, an unchanged entry is the same bytes.)
    let sealed = |v| {
        pack_with(
            &BuildOptions {
                start_code: Some("ABCD-1234-EF".into()),
                ..options(&key)
            },
            v,
        )
    };
    let (mine, other) = (entries(&sealed("1.0.0")), entries(&sealed("1.0.1")));
    let mut mixed = mine.clone();
    mixed[3] = other[3].clone();
    let err = check(&assemble(&mixed), &trust).err().unwrap();
    assert!(matches!(&err, PackError::Altered { .. }), "{err}");
}

#[test]
fn an_edited_manifest_fails_the_signature() {
    let key = demo_key();
    let bytes = pack_with(&options(&key), "1.0.0");
    let from = b"2027-01-01T00:00:00Z";
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the manifest holds not_after");
    let mut edited = bytes.clone();
    edited[at..at + 4].copy_from_slice(b"2099");
    let err = check(&edited, &trusting(&[&key])).err().unwrap();
    assert!(matches!(err, PackError::BadSignature { .. }), "{err}");
}

#[test]
fn untrusted_and_revoked_signers_are_refused_by_key_id() {
    let key = demo_key();
    let stranger = SigningKey::generate().unwrap();
    let bytes = pack_with(&options(&stranger), "1.0.0");
    match check(&bytes, &trusting(&[&key])) {
        Err(PackError::UntrustedKey { key_id }) => assert_eq!(key_id, stranger.public().key_id()),
        other => panic!("expected untrusted, got {:?}", other.err()),
    }
    let mut trust = trusting(&[&key]);
    trust
        .revoked
        .push(Anchor::new(&key.public(), "leaked laptop key"));
    match check(&pack_with(&options(&key), "1.0.0"), &trust) {
        Err(e @ PackError::RevokedKey { .. }) => {
            assert!(e.to_string().contains("leaked laptop key"))
        }
        other => panic!("expected revoked, got {:?}", other.err()),
    }
}

#[test]
fn an_endorsed_key_is_trusted_until_its_endorsement_expires() {
    let anchor = demo_key();
    let signer = SigningKey::generate().unwrap();
    let trust = trusting(&[&anchor]);
    let live = Endorsement::create(
        &anchor,
        &signer.public(),
        "2026 signing key",
        datetime!(2026-12-31 0:00 UTC),
    );
    let bytes = pack_with(
        &BuildOptions {
            endorsements: vec![live],
            ..options(&signer)
        },
        "1.0.0",
    );
    let v = check(&bytes, &trust).unwrap();
    assert!(
        matches!(&v.trust_path, TrustPath::Endorsed { by, .. } if *by == anchor.public().key_id())
    );

    let old = Endorsement::create(
        &anchor,
        &signer.public(),
        "2025 signing key",
        datetime!(2026-05-01 0:00 UTC),
    );
    let bytes = pack_with(
        &BuildOptions {
            endorsements: vec![old],
            ..options(&signer)
        },
        "1.0.0",
    );
    assert!(matches!(
        check(&bytes, &trust),
        Err(PackError::ExpiredEndorsement { .. })
    ));

    // An endorsement by a key nobody trusts endorses nothing.
    let rogue = SigningKey::generate().unwrap();
    let fake = Endorsement::create(
        &rogue,
        &signer.public(),
        "self-made",
        datetime!(2026-12-31 0:00 UTC),
    );
    let bytes = pack_with(
        &BuildOptions {
            endorsements: vec![fake],
            ..options(&signer)
        },
        "1.0.0",
    );
    assert!(matches!(
        check(&bytes, &trust),
        Err(PackError::UntrustedKey { .. })
    ));
}

#[test]
fn packs_outside_their_window_are_refused_with_fifteen_minutes_of_grace() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let bytes = pack_with(&options(&key), "1.0.0");
    let at = |now| {
        verify(
            &bytes[..],
            &VerifyOptions {
                trust: &trust,
                now,
                ledger: None,
                start_code: None,
            },
        )
    };
    assert!(matches!(
        at(datetime!(2025-12-31 23:00 UTC)),
        Err(PackError::NotYetValid { .. })
    ));
    assert!(
        at(datetime!(2025-12-31 23:50 UTC)).is_ok(),
        "a slow clock within the allowance"
    );
    assert!(
        at(datetime!(2027-01-01 0:10 UTC)).is_ok(),
        "a fast clock within the allowance"
    );
    assert!(matches!(
        at(datetime!(2027-01-01 1:00 UTC)),
        Err(PackError::Expired { .. })
    ));
}

#[test]
fn an_older_version_than_one_seen_is_refused() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = VersionLedger::open(&dir.path().join("versions.json")).unwrap();
    let seen = verify(
        &pack_with(&options(&key), "1.1.0")[..],
        &VerifyOptions {
            trust: &trust,
            now: NOW,
            ledger: None,
            start_code: None,
        },
    )
    .unwrap();
    ledger
        .record("company", &semver::Version::new(1, 1, 0), &seen.hash)
        .unwrap();
    let ledger = VersionLedger::open(&dir.path().join("versions.json")).unwrap();
    let opts = VerifyOptions {
        trust: &trust,
        now: NOW,
        ledger: Some(&ledger),
        start_code: None,
    };
    match verify(&pack_with(&options(&key), "1.0.0")[..], &opts) {
        Err(PackError::Downgrade { seen, .. }) => assert_eq!(seen, "1.1.0"),
        other => panic!("expected a downgrade refusal, got {:?}", other.err()),
    }
    assert!(
        verify(&pack_with(&options(&key), "1.1.0")[..], &opts).is_ok(),
        "the same version again is fine"
    );
    assert!(verify(&pack_with(&options(&key), "1.2.0")[..], &opts).is_ok());
}

#[test]
fn a_different_pack_with_a_version_already_seen_is_refused_as_equivocation() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("versions.json");
    let open = |path: &std::path::Path| VersionLedger::open(path).unwrap();
    let first = pack_with(&options(&key), "1.1.0");
    let mut ledger = open(&path);
    let seen = {
        let opts = VerifyOptions {
            trust: &trust,
            now: NOW,
            ledger: Some(&ledger),
            start_code: None,
        };
        verify(&first[..], &opts).unwrap().hash
    };
    ledger
        .record("company", &semver::Version::new(1, 1, 0), &seen)
        .unwrap();
    let ledger = open(&path);
    let opts = VerifyOptions {
        trust: &trust,
        now: NOW,
        ledger: Some(&ledger),
        start_code: None,
    };
    // The same key signs another exam under the same version, or a "rebuild" of it.
    let other = BuildOptions {
        not_after: options(&key).not_after + time::Duration::days(1),
        ..options(&key)
    };
    for version in ["1.1.0", "1.1.0+rebuild"] {
        match verify(&pack_with(&other, version)[..], &opts) {
            Err(e @ PackError::Equivocation { .. }) => {
                assert_eq!(e.code(), "equivocation");
                assert!(e.to_string().contains(&seen), "{e}");
            }
            other => panic!("{version}: expected equivocation, got {:?}", other.err()),
        }
    }
    assert!(
        verify(&first[..], &opts).is_ok(),
        "the same pack again is fine"
    );
}

#[test]
fn a_sealed_pack_needs_the_right_start_code_and_shows_only_public_facts_without_it() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let bytes = pack_with(
        &BuildOptions {
            start_code: Some("7G4K-2QXM-9P".into()),
            ..options(&key)
        },
        "1.0.0",
    );
    // Nothing of the problems is readable in the file.
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        "dept-count",
        "Staff per department",
        "CREATE TABLE",
        "Sales",
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} is readable in a sealed pack"
        );
    }
    let v = check(&bytes, &trust).unwrap();
    assert!(v.info().sealed && v.info().problems.is_none());
    assert!(matches!(
        check(&bytes, &trust).unwrap().open(None),
        Err(PackError::Sealed)
    ));
    assert!(matches!(
        check(&bytes, &trust).unwrap().open(Some("7G4K-2QXM-9Q")),
        Err(PackError::WrongStartCode)
    ));
    let pack = check(&bytes, &trust)
        .unwrap()
        .open(Some("7g4k 2qxm 9p"))
        .unwrap();
    // With the code known up front, the key is derived while entries stream: same result.
    let early = VerifyOptions {
        trust: &trust,
        now: NOW,
        ledger: None,
        start_code: Some("7G4K2QXM9P"),
    };
    let v = verify(&bytes[..], &early).unwrap();
    assert_eq!(v.open(Some("7g4k-2qxm-9p")).unwrap().problems.len(), 2);
    let v = verify(&bytes[..], &early).unwrap();
    assert!(matches!(
        v.open(Some("7G4K2QXM9Q")),
        Err(PackError::WrongStartCode)
    ));
    // A wrong code up front leaves the entries sealed, for the right code at open.
    let wrong_first = VerifyOptions {
        start_code: Some("7G4K2QXM9Q"),
        ..early
    };
    let v = verify(&bytes[..], &wrong_first).unwrap();
    assert_eq!(v.open(Some("7G4K-2QXM-9P")).unwrap().problems.len(), 2);
    assert_eq!(pack.problems[0].id, "dept-count");
}

#[test]
fn a_revoked_anchor_that_endorsed_the_signer_is_named_in_the_refusal() {
    let anchor = demo_key();
    let signer = SigningKey::generate().unwrap();
    let endorsement = Endorsement::create(
        &anchor,
        &signer.public(),
        "2026 signing key",
        datetime!(2026-12-31 0:00 UTC),
    );
    let bytes = pack_with(
        &BuildOptions {
            endorsements: vec![endorsement],
            ..options(&signer)
        },
        "1.0.0",
    );
    // As `sqlexam trust revoke` leaves it: no longer an anchor, listed as revoked.
    let mut trust = trusting(&[]);
    trust
        .revoked
        .push(Anchor::new(&anchor.public(), "head office 2025"));
    match check(&bytes, &trust) {
        Err(e @ PackError::RevokedKey { .. }) => {
            assert!(e.to_string().contains(&anchor.public().key_id()), "{e}");
            assert!(e.to_string().contains("head office 2025"), "{e}");
        }
        other => panic!("expected the revoked endorser, got {:?}", other.err()),
    }
}

#[test]
fn a_right_start_code_on_entries_that_do_not_decrypt_is_not_called_wrong() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let sealed = |v| {
        pack_with(
            &BuildOptions {
                start_code: Some("7G4K-2QXM-9P".into()),
                ..options(&key)
            },
            v,
        )
    };
    // A validly signed pack whose entry 3 holds another version's ciphertext (same size):
    // every hash matches the re-signed manifest, yet it cannot decrypt here.
    let (mut parts, other) = (entries(&sealed("1.0.0")), entries(&sealed("1.0.1")));
    let body = |record: &[u8]| {
        let size = usize::from_str_radix(
            std::str::from_utf8(&record[124..135])
                .unwrap()
                .trim_matches('\0'),
            8,
        )
        .unwrap();
        record[512..512 + size].to_vec()
    };
    assert_eq!(parts[3].len(), other[3].len());
    let (old, new) = (
        sqlexam_core::crypto::sha256_hex(&body(&parts[3])),
        sqlexam_core::crypto::sha256_hex(&body(&other[3])),
    );
    parts[3] = other[3].clone();
    let manifest = String::from_utf8(body(&parts[1]))
        .unwrap()
        .replace(&old, &new);
    let at = parts[1]
        .windows(old.len())
        .position(|w| w == old.as_bytes())
        .unwrap();
    parts[1][at..at + new.len()].copy_from_slice(new.as_bytes());
    let signature = key.sign(sqlexam_core::pack::MANIFEST_DOMAIN, manifest.as_bytes());
    parts[2][512..512 + 64].copy_from_slice(&signature);
    let bytes = [parts.concat(), vec![0u8; 1024]].concat();
    let verified = check(&bytes, &trust).unwrap();
    match verified.open(Some("7G4K-2QXM-9P")) {
        Err(e @ PackError::Undecryptable { .. }) => assert_eq!(e.code(), "undecryptable"),
        other => panic!("expected undecryptable, got {:?}", other.err()),
    }
    let verified = check(&bytes, &trust).unwrap();
    assert!(matches!(
        verified.open(Some("7G4K-2QXM-9Q")),
        Err(PackError::WrongStartCode)
    ));
    // The same with the code known up front, when entries are decrypted while verifying.
    let early = |code| {
        verify(
            &bytes[..],
            &VerifyOptions {
                trust: &trust,
                now: NOW,
                ledger: None,
                start_code: Some(code),
            },
        )
        .unwrap()
    };
    assert!(matches!(
        early("7G4K-2QXM-9P").open(Some("7G4K-2QXM-9P")),
        Err(PackError::Undecryptable { .. })
    ));
    assert!(matches!(
        early("7G4K-2QXM-9P").open(Some("7G4K-2QXM-9Q")),
        Err(PackError::WrongStartCode)
    ));
}

/// A canonical tar record (header, body, padding) as the pack writer makes it.
fn tar_record(path: &str, body: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).unwrap();
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().next_multiple_of(512), 0);
    out
}

#[test]
fn a_pack_sealed_before_segments_is_refused_with_a_reason_not_a_wrong_code() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    let sealed = pack_with(
        &BuildOptions {
            start_code: Some("7G4K-2QXM-9P".into()),
            ..options(&key)
        },
        "1.0.0",
    );
    let mut parts = entries(&sealed);
    let manifest = String::from_utf8(parts[1][512..].to_vec()).unwrap();
    let manifest = manifest.trim_end_matches('\0');
    assert!(
        manifest.contains("\"aes-256-gcm-segments-1m\""),
        "{manifest}"
    );
    // The manifest an earlier sqlexam wrote: one GCM message per entry, re-signed.
    let old = manifest.replace("\"aes-256-gcm-segments-1m\"", "\"aes-256-gcm\"");
    parts[1] = tar_record("manifest.json", old.as_bytes());
    let signature = key.sign(sqlexam_core::pack::MANIFEST_DOMAIN, old.as_bytes());
    parts[2][512..512 + 64].copy_from_slice(&signature);
    let bytes = [parts.concat(), vec![0u8; 1024]].concat();
    let err = check(&bytes, &trust).err().unwrap();
    assert_eq!(err.code(), "manifest", "{err}");
    assert!(err.to_string().contains("earlier sqlexam"), "{err}");
}

/// A real SQLite image of `mb` megabytes of random blobs.
fn large_image(mb: usize) -> Vec<u8> {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE blob (data BLOB)").unwrap();
    for _ in 0..mb {
        conn.execute("INSERT INTO blob VALUES (randomblob(1000000))", [])
            .unwrap();
    }
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

#[test]
fn a_large_entry_is_verified_in_pieces_and_a_change_anywhere_in_it_is_refused() {
    let key = demo_key();
    let trust = trusting(&[&key]);
    // Large entries are read in 4 MiB pieces, hashed on a second thread: three pieces here,
    // the last one partial.
    let mut problem = dept_count().clone();
    problem.datasets[0].image = large_image(9);
    let image = problem.datasets[0].image.clone();
    let pack = |start_code: Option<&str>| {
        build(
            "company",
            &semver::Version::new(1, 0, 0),
            &title(),
            std::slice::from_ref(&problem),
            &BuildOptions {
                start_code: start_code.map(str::to_owned),
                ..options(&key)
            },
        )
        .unwrap()
    };
    let plain = pack(None);
    let opened = check(&plain, &trust).unwrap().open(None).unwrap();
    assert_eq!(opened.problems[0].datasets[0].image, image);

    // signer.json, manifest.json, manifest.sig, contents.json, problem.json, then the image.
    let at = entries(&plain)[..5].iter().map(Vec::len).sum::<usize>() + 512;
    assert_eq!(&plain[at..at + 16], b"SQLite format 3\0");
    for offset in [0, 4 << 20, (4 << 20) + 1, image.len() / 2, image.len() - 1] {
        let mut bad = plain.clone();
        bad[at + offset] ^= 0x10;
        let err = check(&bad, &trust).err().unwrap();
        assert!(matches!(err, PackError::Altered { .. }), "{offset}: {err}");
    }
    let cut = at + (6 << 20);
    match check(&plain[..cut], &trust) {
        Err(PackError::Truncated { offset }) => assert_eq!(offset, cut as u64),
        other => panic!("expected truncated, got {:?}", other.err()),
    }

    // Sealed, with the code known up front: the image is decrypted while verifying.
    let sealed = pack(Some("7G4K-2QXM-9P"));
    let early = VerifyOptions {
        trust: &trust,
        now: NOW,
        ledger: None,
        start_code: Some("7G4K-2QXM-9P"),
    };
    let opened = verify(&sealed[..], &early)
        .unwrap()
        .open(Some("7G4K-2QXM-9P"))
        .unwrap();
    assert_eq!(opened.problems[0].datasets[0].image, image);
    let mut bad = sealed.clone();
    bad[at + image.len() / 2] ^= 0x10;
    let err = verify(&bad[..], &early).err().unwrap();
    assert!(matches!(err, PackError::Altered { .. }), "{err}");
}

#[test]
fn weak_start_codes_are_refused_at_build() {
    let key = demo_key();
    let opts = BuildOptions {
        start_code: Some("12-34".into()),
        ..options(&key)
    };
    let err = build(
        "company",
        &semver::Version::new(1, 0, 0),
        &title(),
        &problems(),
        &opts,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("at least 8"), "{err}");
}

#[test]
#[cfg(unix)] // runs bash and openssl, which a Windows test binary here (under wine) has not
fn openssl_verifies_the_signature_with_the_documented_recipe() {
    // Run the exact commands of docs/pack-format.md, between its recipe markers.
    let doc = std::fs::read_to_string(data("../../../../docs/pack-format.md")).unwrap();
    let recipe = doc
        .split("<!-- openssl-recipe -->")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("docs/pack-format.md holds the OpenSSL recipe between markers");
    let dir = tempfile::tempdir().unwrap();
    let key = demo_key();
    std::fs::write(
        dir.path().join("pack.sqlexam"),
        pack_with(&options(&key), "1.0.0"),
    )
    .unwrap();
    std::fs::write(dir.path().join("organizer.pub.pem"), key.public().to_pem()).unwrap();
    let run = |script: &str| {
        std::process::Command::new("bash")
            .arg("-euc")
            .arg(script)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(recipe);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));
    // And OpenSSL refuses the same message with one byte changed.
    let tampered = run(
        "sed -i 's/company/c0mpany/' message && openssl pkeyutl -verify -pubin -inkey organizer.pub.pem -rawin -in message -sigfile manifest.sig",
    );
    assert!(
        !tampered.status.success(),
        "OpenSSL accepted an edited manifest"
    );
}
