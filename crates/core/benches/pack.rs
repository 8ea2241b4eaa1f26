//! Pack verification benchmark (BENCHMARKS.md). Prints figures; asserts nothing about time.
//!
//! A 100 MB pack is verified (and, sealed, unsealed and loaded) from disk, and compared with
//! `openssl dgst -sha256` of the same file — the hashing floor: OpenSSL uses the CPU's SHA
//! extensions — measured alternately in one run. Ratios of medians.
//! Last line: `pack_verify_ratio=…` (the larger of the sealed and unsealed ratios).
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::{Connection, MAIN_DB};
use sqlexam_core::crypto::SigningKey;
use sqlexam_core::pack::{Anchor, BuildOptions, Trust, VerifyOptions, build, verify};
use sqlexam_core::problem::{Localized, load_problem_in_context};
use time::OffsetDateTime;

const MB: usize = 1_000_000;

/// A real SQLite image of about `bytes`: 1 MB blobs of varied content.
fn big_image(bytes: usize) -> Vec<u8> {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB)")
        .unwrap();
    for i in 0..bytes / MB {
        conn.execute(
            "INSERT INTO blob VALUES (?1, randomblob(?2))",
            (i as i64, MB as i64),
        )
        .unwrap();
    }
    conn.serialize(MAIN_DB).unwrap().to_vec()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The floor: hashing the file with OpenSSL (process start included, as for any command).
fn openssl_sha256(path: &Path) -> Duration {
    let t = Instant::now();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    t.elapsed()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problem = load_problem_in_context(&root.join("tests/data/company/dept-count")).unwrap();
    problem.datasets[0].image = big_image(100 * MB);
    let key = SigningKey::generate().unwrap();
    let trust = Trust {
        anchors: vec![Anchor::new(&key.public(), "bench")],
        revoked: Vec::new(),
    };
    let now = OffsetDateTime::now_utc();
    let title = Localized {
        en: "Bench".into(),
        ja: "ベンチ".into(),
    };
    let options = |code: Option<&str>| BuildOptions {
        key: &key,
        endorsements: Vec::new(),
        start_code: code.map(str::to_owned),
        exam: Default::default(),
        proctor_passphrase: Some("bench passphrase".into()),
        roster: None,
        created: now,
        not_before: now - time::Duration::days(1),
        not_after: now + time::Duration::days(1),
    };
    let dir = tempfile::tempdir().unwrap();
    let (plain, sealed) = (
        dir.path().join("plain.sqlexam"),
        dir.path().join("sealed.sqlexam"),
    );
    let version = semver::Version::new(1, 0, 0);
    let problems = [problem];
    std::fs::write(
        &plain,
        build("bench", &version, &title, &problems, &options(None)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        &sealed,
        build(
            "bench",
            &version,
            &title,
            &problems,
            &options(Some("BENCH-CODE-1")),
        )
        .unwrap(),
    )
    .unwrap();
    let size = std::fs::metadata(&sealed).unwrap().len();

    let opts = VerifyOptions {
        trust: &trust,
        now,
        ledger: None,
        start_code: None,
    };
    let sealed_opts = VerifyOptions {
        start_code: Some("bench-code-1"),
        ..opts
    };
    let open = |path: &Path| BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    let runs = 15;
    let (mut plain_floor, mut plains) = (Vec::new(), Vec::new());
    let (mut sealed_floor, mut seals) = (Vec::new(), Vec::new());
    openssl_sha256(&plain); // warm the page cache
    openssl_sha256(&sealed);
    for _ in 0..runs {
        plain_floor.push(openssl_sha256(&plain));
        let t = Instant::now();
        let verified = verify(open(&plain), &opts).unwrap();
        plains.push(t.elapsed());
        drop(verified); // freeing 100 MB is not part of either figure
        sealed_floor.push(openssl_sha256(&sealed));
        let t = Instant::now();
        let pack = verify(open(&sealed), &sealed_opts)
            .unwrap()
            .open(Some("bench-code-1"))
            .unwrap();
        seals.push(t.elapsed());
        assert_eq!(pack.problems.len(), 1);
    }
    let (plain_floor, plain_t) = (median(plain_floor), median(plains));
    let (sealed_floor, seal_t) = (median(sealed_floor), median(seals));
    let (r_plain, r_seal) = (ms(plain_t) / ms(plain_floor), ms(seal_t) / ms(sealed_floor));
    println!(
        "pack of {:.1} MB (one 100 MB dataset image), medians of {runs}:",
        size as f64 / 1e6
    );
    println!(
        "  openssl dgst -sha256, plain pack:            {:8.1} ms",
        ms(plain_floor)
    );
    println!(
        "  verify, not sealed:                          {:8.1} ms  ratio {r_plain:.3}",
        ms(plain_t)
    );
    println!(
        "  openssl dgst -sha256, sealed pack:           {:8.1} ms",
        ms(sealed_floor)
    );
    println!(
        "  verify + unseal (PBKDF2 600k) + load:        {:8.1} ms  ratio {r_seal:.3}",
        ms(seal_t)
    );
    println!("pack_verify_ratio={:.3}", r_plain.max(r_seal));
}
