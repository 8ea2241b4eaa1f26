//! Pack verification benchmark (BENCHMARKS.md). Prints figures; asserts nothing about time.
//!
//! A 100 MB pack is verified (and, sealed, unsealed and loaded) from disk, and compared with
//! `sha256sum` of the same file, measured alternately in one run.
//! Last line: `pack_verify_ratio=…` (the larger of the sealed and unsealed ratios).
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::{Connection, MAIN_DB};
use sqlexam_core::pack::{Anchor, BuildOptions, SigningKey, Trust, VerifyOptions, build, verify};
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

fn sha256sum(path: &Path) -> Duration {
    let t = Instant::now();
    let out = Command::new("sha256sum").arg(path).output().unwrap();
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
    let (mut sums, mut plains, mut seals) = (Vec::new(), Vec::new(), Vec::new());
    sha256sum(&plain); // warm the page cache
    for _ in 0..7 {
        sums.push(sha256sum(&sealed));
        let t = Instant::now();
        verify(open(&plain), &opts).unwrap();
        plains.push(t.elapsed());
        let t = Instant::now();
        let pack = verify(open(&sealed), &sealed_opts)
            .unwrap()
            .open(Some("bench-code-1"))
            .unwrap();
        seals.push(t.elapsed());
        assert_eq!(pack.problems.len(), 1);
    }
    let (sum, plain_t, seal_t) = (median(sums), median(plains), median(seals));
    let (r_plain, r_seal) = (ms(plain_t) / ms(sum), ms(seal_t) / ms(sum));
    println!(
        "pack of {:.1} MB (one 100 MB dataset image), medians of 7:",
        size as f64 / 1e6
    );
    println!(
        "  sha256sum:                                 {:8.1} ms",
        ms(sum)
    );
    println!(
        "  verify, not sealed:                        {:8.1} ms  ratio {r_plain:.3}",
        ms(plain_t)
    );
    println!(
        "  verify + unseal (PBKDF2 600k) + load:      {:8.1} ms  ratio {r_seal:.3}",
        ms(seal_t)
    );
    println!("pack_verify_ratio={:.3}", r_plain.max(r_seal));
}
