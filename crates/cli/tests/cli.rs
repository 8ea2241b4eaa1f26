//! The `sqlexam` binary as organizers and scripts use it: output, JSON and exit codes.
#![allow(clippy::unwrap_used)] // a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(p: &str) -> PathBuf {
    repo().join("crates/core/tests/data/company").join(p)
}

fn sqlexam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqlexam"))
        .args(args)
        .env("LANG", "C")
        .output()
        .unwrap()
}

/// Writes `sql` to a temporary file (kept alive by the returned guard).
fn query(sql: &str) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("query.sql");
    std::fs::write(&path, sql).unwrap();
    (tmp, path.to_str().unwrap().to_owned())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn starter_pack_passes_problem_check() {
    let pack = repo().join("problems/sql-basics");
    let out = sqlexam(&["problem", "check", pack.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems.len() >= 12,
        "the starter pack has at least 12 problems"
    );
    for p in problems {
        let count = |label: &str| {
            p["submissions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["expected"] == label)
                .count()
        };
        assert!(
            count("accepted") >= 3,
            "{}: fewer than 3 accepted submissions",
            p["id"]
        );
        assert!(
            count("wrong_answer") >= 3,
            "{}: fewer than 3 wrong_answer submissions",
            p["id"]
        );
        let secret = p["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["secret"] == true)
            .count();
        assert!(secret >= 3, "{}: fewer than 3 secret datasets", p["id"]);
    }
}

#[test]
fn grade_exits_zero_on_accepted_and_one_otherwise() {
    let dir = fixture("dept-count");
    let ok = sqlexam(&[
        "grade",
        dir.to_str().unwrap(),
        dir.join("submissions/accepted/subquery.sql")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(
        stdout(&ok).starts_with("Accepted — 100 / 100 points"),
        "{}",
        stdout(&ok)
    );
    let wrong = sqlexam(&[
        "grade",
        dir.to_str().unwrap(),
        dir.join("submissions/wrong_answer/inner-join.sql")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stdout(&wrong).starts_with("Wrong Answer — 40 / 100 points"),
        "{}",
        stdout(&wrong)
    );
}

#[test]
fn grade_speaks_japanese_on_request() {
    let dir = fixture("dept-count");
    let (_tmp, q) = query("SELECT name, 1 FROM dept");
    let out = sqlexam(&["grade", dir.to_str().unwrap(), &q, "--lang", "ja"]);
    let text = stdout(&out);
    assert!(text.starts_with("不正解 — 40 / 100 点"), "{text}");
    assert!(text.contains("不足している行"), "{text}");
}

#[test]
fn grade_json_follows_the_documented_shape() {
    let dir = fixture("dept-count");
    let (_tmp, q) = query("SELECT name, 1 FROM dept");
    let out = sqlexam(&["grade", dir.to_str().unwrap(), &q, "--json"]);
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(g["verdict"], "wrong_answer");
    assert_eq!(g["score"], 40);
    assert_eq!(g["datasets"][0]["name"], "sample/01-small");
    assert_eq!(g["datasets"][0]["detail"]["kind"], "mismatch");
    assert_eq!(g["datasets"][0]["detail"]["mismatch"]["kind"], "rows");
    assert!(
        g["datasets"][3]["detail"].is_null(),
        "secret datasets carry no detail"
    );
    assert!(g["sqlite_version"].as_str().unwrap().starts_with("3."));
}

#[test]
fn unreadable_query_is_bad_input_with_exit_three() {
    let dir = fixture("dept-count");
    let out = sqlexam(&["grade", dir.to_str().unwrap(), "/nonexistent/query.sql"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/query.sql"), "{err}");
}

#[test]
fn problem_check_fails_when_data_misses_a_wrong_query() {
    let (_tmp, dir) = editable_fixture("dept-count");
    // "Wrong" but equivalent to the reference: no dataset can catch it.
    std::fs::write(
        dir.join("submissions/wrong_answer/not-really.sql"),
        "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON d.id = e.dept_id GROUP BY d.name, d.id",
    )
    .unwrap();
    let out = sqlexam(&["problem", "check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("not-really.sql") && text.contains("does not catch"),
        "{text}"
    );
}

#[test]
fn problem_check_reports_a_broken_problem_by_file_and_line() {
    let (_tmp, dir) = editable_fixture("dept-count");
    std::fs::write(
        dir.join("problem.toml"),
        "title = { en = \"x\", ja = \"x\" }\nkind = \"selec\"\n",
    )
    .unwrap();
    let out = sqlexam(&["problem", "check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("problem.toml:2:") && text.contains("selec"),
        "{text}"
    );
}

/// A copy of a fixture problem that a test may break (kept alive by the returned guard).
fn editable_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&fixture(name), &dir);
    (tmp, dir)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs sqlexam with its state in `home`.
fn sqlexam_in(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqlexam"))
        .args(args)
        .env("LANG", "C")
        .env("SQLEXAM_HOME", home)
        .output()
        .unwrap()
}

/// `sqlexam pack build SOURCE --key KEY`, valid 2020–2099, into OUT, with `extra` flags.
fn pack_build(home: &Path, source: &Path, key: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "pack",
        "build",
        source.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--not-before",
        "2020-01-01T00:00:00Z",
        "--not-after",
        "2099-01-01T00:00:00Z",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    sqlexam_in(home, &args)
}

/// The weak proctor passphrase the fixtures use, allowed explicitly.
const WEAK_PROCTOR: [&str; 3] = [
    "--proctor-passphrase",
    "proctor secret",
    "--allow-weak-secrets",
];

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(o)
}

#[test]
fn an_organizer_builds_signs_seals_and_a_venue_verifies_and_grades() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path());
    let key = dir.join("org.key");
    let text = ok(&sqlexam_in(
        &home,
        &["key", "gen", "--out", key.to_str().unwrap()],
    ));
    assert!(text.starts_with("key id "), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let public = dir.join("org.pub.pem");
    assert!(
        sqlexam_in(&home, &["key", "gen", "--out", key.to_str().unwrap()])
            .status
            .code()
            == Some(3),
        "no silent overwrite"
    );

    let pack = dir.join("company.sqlexam");
    let source = repo().join("crates/core/tests/data/company");
    let build = |extra: &[&str]| {
        let args = [&WEAK_PROCTOR[..], extra].concat();
        pack_build(&home, &source, &key, &pack, &args)
    };
    assert!(ok(&build(&["--start-code", "ROOM-7-2026"])).contains("sealed"));

    // Not trusted yet: refused by key id.
    let refused = sqlexam_in(&home, &["pack", "verify", pack.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stdout(&refused).contains("not trusted"),
        "{}",
        stdout(&refused)
    );

    ok(&sqlexam_in(
        &home,
        &[
            "trust",
            "add",
            public.to_str().unwrap(),
            "--name",
            "Test organizer",
        ],
    ));
    assert!(ok(&sqlexam_in(&home, &["trust", "list"])).contains("Test organizer"));
    let info = ok(&sqlexam_in(
        &home,
        &["pack", "inspect", pack.to_str().unwrap()],
    ));
    assert!(
        info.contains("sealed: the problems stay hidden") && !info.contains("dept-count"),
        "{info}"
    );
    let wrong = sqlexam_in(
        &home,
        &[
            "pack",
            "inspect",
            pack.to_str().unwrap(),
            "--start-code",
            "ROOM-7-2025",
        ],
    );
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("start code is wrong"));
    let open = ok(&sqlexam_in(
        &home,
        &[
            "pack",
            "inspect",
            pack.to_str().unwrap(),
            "--start-code",
            "room-7-2026",
        ],
    ));
    assert!(
        open.contains("dept-count") && open.contains("raise"),
        "{open}"
    );

    let (_q, q) = query(
        "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id",
    );
    let graded = ok(&sqlexam_in(
        &home,
        &[
            "grade",
            pack.to_str().unwrap(),
            &q,
            "--problem",
            "dept-count",
            "--start-code",
            "ROOM72026",
        ],
    ));
    assert!(graded.starts_with("Accepted — 100 / 100"), "{graded}");

    // A bit flipped in the middle of the file: refused with a reason.
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let bad = dir.join("bad.sqlexam");
    std::fs::write(&bad, bytes).unwrap();
    let refused = sqlexam_in(&home, &["pack", "verify", bad.to_str().unwrap(), "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["code"].as_str().is_some_and(|c| !c.is_empty()));

    // Revoking the key refuses its packs by name.
    ok(&sqlexam_in(
        &home,
        &["trust", "revoke", public.to_str().unwrap()],
    ));
    let revoked = sqlexam_in(&home, &["pack", "verify", pack.to_str().unwrap()]);
    assert!(
        stdout(&revoked).contains("Test organizer") && stdout(&revoked).contains("revoked"),
        "{}",
        stdout(&revoked)
    );
}

#[test]
fn pack_build_refuses_a_source_whose_data_misses_a_wrong_query() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let source = tmp.path().join("company");
    copy_dir(&repo().join("crates/core/tests/data/company"), &source);
    std::fs::write(
        source.join("dept-count/submissions/wrong_answer/not-really.sql"),
        "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON d.id = e.dept_id GROUP BY d.name, d.id",
    )
    .unwrap();
    let key = repo().join("keys/demo/demo-organizer.key");
    let out = tmp.path().join("x.sqlexam");
    let o = pack_build(&home, &source, &key, &out, &WEAK_PROCTOR);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("problem check failed"));
    assert!(!out.exists(), "no pack is written");
}

#[test]
fn a_venue_refuses_an_older_pack_version_after_a_newer_one() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let key = repo().join("keys/demo/demo-organizer.key");
    ok(&sqlexam_in(
        &home,
        &[
            "trust",
            "add",
            repo()
                .join("keys/demo/demo-organizer.pub.pem")
                .to_str()
                .unwrap(),
        ],
    ));
    let mut built = Vec::new();
    for version in ["1.0.0", "1.1.0"] {
        let source = tmp.path().join(format!("src-{version}"));
        copy_dir(&repo().join("crates/core/tests/data/company"), &source);
        let toml = std::fs::read_to_string(source.join("pack.toml"))
            .unwrap()
            .replace("1.0.0", version);
        std::fs::write(source.join("pack.toml"), toml).unwrap();
        let out = tmp.path().join(format!("{version}.sqlexam"));
        ok(&pack_build(&home, &source, &key, &out, &WEAK_PROCTOR));
        built.push(out);
    }
    ok(&sqlexam_in(
        &home,
        &["pack", "verify", built[1].to_str().unwrap()],
    ));
    let old = sqlexam_in(&home, &["pack", "verify", built[0].to_str().unwrap()]);
    assert_eq!(old.status.code(), Some(1));
    assert!(
        stdout(&old).contains("older than version 1.1.0"),
        "{}",
        stdout(&old)
    );
}

/// Trusts the DEMO key in `home` and builds the company fixture pack signed by it.
fn demo_pack(home: &Path, out: &Path, extra: &[&str]) {
    let public = repo().join("keys/demo/demo-organizer.pub.pem");
    ok(&sqlexam_in(
        home,
        &["trust", "add", public.to_str().unwrap()],
    ));
    let source = repo().join("crates/core/tests/data/company");
    let key = repo().join("keys/demo/demo-organizer.key");
    let mut args = WEAK_PROCTOR.to_vec();
    if !extra.contains(&"--start-code") {
        args.push("--unsealed");
    }
    args.extend_from_slice(extra);
    ok(&pack_build(home, &source, &key, out, &args));
}

/// Records of an engine directory, parsed from `session export`.
fn exported_records(home: &Path, dir: &Path) -> Vec<serde_json::Value> {
    let out = ok(&sqlexam_in(
        home,
        &["session", "--dir", dir.to_str().unwrap(), "export"],
    ));
    out.lines()
        .map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::from_str(line["bytes"].as_str().unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn sigkill_in_a_burst_of_submissions_loses_and_duplicates_nothing() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("engine");
    let pack = tmp.path().join("company.sqlexam");
    demo_pack(&home, &pack, &["--start-code", "CRASH-TEST-1"]);
    let (_q, query) = query(
        "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id",
    );
    let mut acked = std::collections::BTreeSet::new();
    for round in 0..50u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqlexam"))
            .args([
                "session",
                "--dir",
                dir.to_str().unwrap(),
                "burst",
                "--pack",
                pack.to_str().unwrap(),
                "--start-code",
                "CRASH-TEST-1",
                "--passphrase",
                "proctor secret",
                "--problem",
                "dept-count",
                "--count",
                "40",
                &query,
            ])
            .env("SQLEXAM_HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a varying number of acknowledged submissions, sometimes a moment later
        // (mid-grading), sometimes at once (mid-submit).
        let kill_after = 1 + (round * 7) % 12;
        let mut seen = 0;
        while seen < kill_after {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(id) = line.strip_prefix("ack ") {
                acked.insert(id.parse::<u64>().unwrap());
                seen += 1;
            }
        }
        if round % 3 == 1 {
            std::thread::sleep(std::time::Duration::from_millis(round % 20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Restart: recovery grades what was accepted but not yet graded.
        ok(&sqlexam_in(
            &home,
            &["session", "--dir", dir.to_str().unwrap(), "drain"],
        ));
        let verify = sqlexam_in(
            &home,
            &["session", "verify", dir.to_str().unwrap(), "--json"],
        );
        let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
        assert_eq!(
            report["findings"].as_array().map(Vec::len),
            Some(0),
            "round {round}: {report}"
        );
        let mut per_submission = std::collections::BTreeMap::<u64, usize>::new();
        for r in exported_records(&home, &dir) {
            if r["event"]["kind"] == "submission" {
                *per_submission
                    .entry(r["event"]["submission_id"].as_u64().unwrap())
                    .or_default() += 1;
            }
        }
        for id in &acked {
            assert_eq!(
                per_submission.get(id),
                Some(&1),
                "round {round}: acknowledged submission {id}"
            );
        }
        assert!(
            per_submission.values().all(|&n| n == 1),
            "round {round}: a submission graded twice"
        );
    }
    assert!(acked.len() >= 50);
    // Each kill mid-exam is in the chain as an interruption the proctor sees, and what
    // resumed it follows.
    let records = exported_records(&home, &dir);
    let causes: Vec<&str> = records
        .iter()
        .filter(|r| r["event"]["kind"] == "interrupted")
        .map(|r| r["event"]["cause"].as_str().unwrap())
        .collect();
    assert!(
        causes.iter().filter(|&&c| c == "stopped").count() >= 10,
        "{causes:?}"
    );
    assert!(
        causes.iter().all(|&c| c == "stopped" || c == "closed"),
        "{causes:?}"
    );
}

#[test]
fn session_verify_names_a_tampered_export_line() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("engine");
    let pack = tmp.path().join("company.sqlexam");
    demo_pack(&home, &pack, &[]);
    let (_q, query) = query("SELECT name, 1 FROM dept");
    let d = dir.to_str().unwrap();
    ok(&sqlexam_in(
        &home,
        &[
            "session",
            "--dir",
            d,
            "burst",
            "--pack",
            pack.to_str().unwrap(),
            "--passphrase",
            "proctor secret",
            "--problem",
            "dept-count",
            "--count",
            "3",
            &query,
        ],
    ));
    let shown = ok(&sqlexam_in(&home, &["session", "--dir", d, "show"]));
    assert!(
        shown.contains("burst")
            && shown.contains("3 submissions")
            && shown.contains("4 records, 4 not synced"),
        "{shown}"
    );
    let export = tmp.path().join("records.jsonl");
    ok(&sqlexam_in(
        &home,
        &[
            "session",
            "--dir",
            d,
            "export",
            "--out",
            export.to_str().unwrap(),
        ],
    ));
    assert!(
        ok(&sqlexam_in(
            &home,
            &["session", "verify", export.to_str().unwrap()]
        ))
        .contains("every signature verifies")
    );
    let text = std::fs::read_to_string(&export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let edited = [
        lines[0],
        &lines[2].replace("wrong_answer", "accepted"),
        lines[1],
        lines[3],
    ]
    .join("\n");
    std::fs::write(&export, &edited).unwrap();
    let out = sqlexam_in(&home, &["session", "verify", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("seq 3: the signature does not verify"),
        "{text}"
    );
    assert!(text.contains("out of order"), "{text}");

    // A truncated export is a finding naming the line, not an internal error.
    std::fs::write(&export, &edited[..edited.len() - 40]).unwrap();
    let out = sqlexam_in(&home, &["session", "verify", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("line 4 is not a valid record"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn pack_build_generates_strong_secrets_and_refuses_weak_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let source = repo().join("crates/core/tests/data/company");
    let key = repo().join("keys/demo/demo-organizer.key");
    let out = tmp.path().join("company.sqlexam");
    let build = |extra: &[&str]| pack_build(&home, &source, &key, &out, extra);
    for weak in [
        ["--start-code", "12345678"],
        ["--proctor-passphrase", "proctor secret"],
    ] {
        let o = build(&weak);
        assert_eq!(o.status.code(), Some(3), "{weak:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("too easy to guess") && err.contains("60"),
            "{err}"
        );
    }
    let text = ok(&build(&[]));
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let (code, passphrase) = (field("start code:"), field("proctor passphrase:"));
    for secret in [&code, &passphrase] {
        // 16 symbols of 32 (5 bits each) in four groups: 80 bits.
        assert_eq!(secret.len(), 19, "{secret}: 16 symbols in 4 groups");
        assert!(
            secret.split('-').all(|g| g.len() == 4
                && g.chars()
                    .all(|c| c.is_ascii_alphanumeric() && !"ILOUilou".contains(c))),
            "{secret}"
        );
    }
    assert!(text.contains("cannot be shown again"), "{text}");
    // The generated secrets open the pack and authorize the proctor.
    ok(&sqlexam_in(
        &home,
        &[
            "trust",
            "add",
            repo()
                .join("keys/demo/demo-organizer.pub.pem")
                .to_str()
                .unwrap(),
        ],
    ));
    let dir = tmp.path().join("engine");
    let d = dir.to_str().unwrap();
    let session = ok(&sqlexam_in(
        &home,
        &[
            "session",
            "--dir",
            d,
            "start",
            "--pack",
            out.to_str().unwrap(),
            "--start-code",
            &code,
            "--candidate",
            "C1",
        ],
    ));
    let session = session.trim();
    ok(&sqlexam_in(
        &home,
        &[
            "session",
            "--dir",
            d,
            "proctor",
            "--session",
            session,
            "--passphrase",
            &passphrase,
            "--extend",
            "5",
        ],
    ));
    // Its export verifies, proctor proof included, once the pack is given.
    let export = tmp.path().join("records.jsonl");
    ok(&sqlexam_in(
        &home,
        &[
            "session",
            "--dir",
            d,
            "export",
            "--out",
            export.to_str().unwrap(),
        ],
    ));
    let without = sqlexam_in(&home, &["session", "verify", export.to_str().unwrap()]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stdout(&without).contains("give the pack"),
        "{}",
        stdout(&without)
    );
    let with = ok(&sqlexam_in(
        &home,
        &[
            "session",
            "verify",
            export.to_str().unwrap(),
            "--pack",
            out.to_str().unwrap(),
        ],
    ));
    assert!(with.contains("every signature verifies"), "{with}");
}

#[test]
fn control_characters_from_a_query_cannot_drive_the_terminal() {
    let dir = fixture("dept-count");
    // Clears the screen, then prints a fake verdict on a line of its own.
    let (_tmp, sql) = query(
        "SELECT char(27) || '[2J' || char(13) || char(10) || 'Accepted — 100 / 100 points', \
         char(155) || '31m' || char(8238) FROM dept",
    );
    for lang in ["C", "ja_JP.UTF-8"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sqlexam"))
            .args(["grade", dir.to_str().unwrap(), &sql])
            .env("LANG", lang)
            .output()
            .unwrap();
        let text = stdout(&out);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.chars().any(|c| c == '\u{202e}'), "{text:?}");
        assert!(text.contains("\\x1b[2J\\r\\nAccepted"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("Accepted")).count(),
            0,
            "{text}"
        );
    }
    // JSON stays exact.
    let json = sqlexam(&["grade", dir.to_str().unwrap(), &sql, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let cell = &v["datasets"][0]["produced"]["rows"]["rows"][0][0];
    assert!(
        cell.as_str().unwrap().starts_with("\u{1b}[2J\r\n"),
        "{cell}"
    );
}

/// Grades `sql` in a child `sqlexam grade --json` and returns (verdict, peak RSS in MB,
/// seconds, bytes of JSON printed).
#[cfg(unix)]
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std cannot do
fn grade_in_child(problem: &Path, sql: &str) -> (String, f64, f64, usize) {
    use std::io::Read;
    let (_tmp, file) = query(sql);
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlexam"))
        .args(["grade", problem.to_str().unwrap(), &file, "--json"])
        .env("LANG", "C")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 reaps our own child, which
    // `child` is then never waited on again.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut usage), pid);
        usage
    };
    let seconds = started.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
    (
        v["verdict"].as_str().unwrap_or("?").to_owned(),
        usage.ru_maxrss as f64 * 1024.0 / 1e6,
        seconds,
        out.len(),
    )
}

/// The memory targets of the hostile suite, per submission in its own process as the app
/// and the server grade: peak RSS within the 512 MiB SQLite heap limit plus overhead
/// (600 MB), and JSON output capped whatever the query returns. Times are printed, not
/// asserted (BENCHMARKS.md has them).
#[cfg(unix)]
#[test]
fn hostile_submissions_stay_within_memory_and_output_bounds() {
    let select = fixture("dept-count");
    let dml = fixture("raise");
    let r = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000)";
    let cases: Vec<(&str, &Path, String)> = vec![
        (
            "dml-800k-rows",
            &dml,
            "INSERT INTO emp (name) WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 800000) SELECT 'x' FROM r".into(),
        ),
        (
            "control-chars-600-rows",
            &select,
            format!("{r} SELECT n, printf('%.*c', 50000, char(27)) FROM r WHERE n <= 600"),
        ),
        (
            "sort-huge-rows",
            &select,
            format!("{r} SELECT n, printf('%.*c', 50000, 'x') || n FROM r ORDER BY 2 DESC"),
        ),
        (
            "group-concat-cross-join",
            &select,
            "SELECT group_concat(hex(zeroblob(10000))), 1 FROM emp a, emp b".into(),
        ),
        (
            "wide-empty-cells",
            &select,
            format!("{r} SELECT {} FROM r", vec!["''"; 400].join(", ")),
        ),
        (
            "runaway-recursion",
            &select,
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n, n FROM r"
                .into(),
        ),
    ];
    for (name, problem, sql) in &cases {
        let (verdict, rss_mb, seconds, json_bytes) = grade_in_child(problem, sql);
        println!(
            "hostile {name}: {verdict} in {seconds:.1} s, peak RSS {rss_mb:.0} MB, {json_bytes} bytes of JSON"
        );
        assert_ne!(verdict, "accepted", "{name}");
        assert_ne!(verdict, "?", "{name}: no verdict");
        assert!(rss_mb <= 600.0, "{name}: peak RSS {rss_mb:.0} MB");
        assert!(json_bytes < 4 << 20, "{name}: {json_bytes} bytes of JSON");
    }
}

#[test]
fn a_roster_gives_each_candidate_a_code_that_alone_admits_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path());
    let key = dir.join("org.key");
    ok(&sqlexam_in(
        &home,
        &["key", "gen", "--out", key.to_str().unwrap()],
    ));
    ok(&sqlexam_in(
        &home,
        &["trust", "add", dir.join("org.pub.pem").to_str().unwrap()],
    ));
    let source = repo().join("crates/core/tests/data/company");
    let pack = dir.join("company.sqlexam");
    let roster = dir.join("roster.csv");
    let build = |csv: &str| {
        std::fs::write(&roster, csv).unwrap();
        let mut args = WEAK_PROCTOR.to_vec();
        args.extend([
            "--start-code",
            "ROOM-7-2026",
            "--roster",
            roster.to_str().unwrap(),
        ]);
        pack_build(&home, &source, &key, &pack, &args)
    };
    // A roster that cannot be used is named by file and line, and nothing is built.
    let twice = build("candidate,name\n0042,Tanaka Yui\n0042,Sato Ren\n");
    assert_eq!(twice.status.code(), Some(3));
    let said = String::from_utf8_lossy(&twice.stderr).into_owned();
    assert!(
        said.contains("roster.csv:3") && said.contains("twice"),
        "{said}"
    );
    let unnamed = build("candidate,room\n0042,3\n");
    assert!(
        String::from_utf8_lossy(&unnamed.stderr).contains("no `name` column"),
        "{}",
        String::from_utf8_lossy(&unnamed.stderr)
    );
    assert!(!pack.exists());

    let built = ok(&build(
        "\u{feff}Candidate,Name,extra_time_percent\n0042,Tanaka Yui,30\n0043,Sato Ren,\n",
    ));
    assert!(
        built.contains("admission slips:") && built.contains("2 candidates"),
        "{built}"
    );
    let slips = std::fs::read_to_string(dir.join("company-admission-slips.csv")).unwrap();
    let html = std::fs::read_to_string(dir.join("company-admission-slips.html")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("company-admission-slips.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the codes are the user's alone");
    }
    // Each code, as the slip shows it (the CSV keeps it text for Excel: ="…").
    let code_of = |id: &str| {
        slips
            .lines()
            .find(|l| l.contains(id))
            .and_then(|l| l.rsplit(',').next())
            .unwrap()
            .trim_matches(|c| c == '"' || c == '=')
            .to_owned()
    };
    let (c42, c43) = (code_of("0042"), code_of("0043"));
    assert_eq!(c42.len(), 16, "{slips}");
    assert!(
        html.contains(&c42) && html.contains("Tanaka Yui"),
        "one slip each"
    );

    let start = |machine: &str, candidate: &str, extra: &[&str]| {
        let d = dir.join(machine);
        let mut args = vec![
            "session",
            "--dir",
            d.to_str().unwrap(),
            "start",
            "--pack",
            pack.to_str().unwrap(),
            "--start-code",
            "ROOM-7-2026",
            "--candidate",
            candidate,
        ];
        args.extend_from_slice(extra);
        sqlexam_in(&home, &args)
    };
    let without = start("m1", "0042", &[]);
    assert_ne!(without.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("admission code"),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    let wrong = start("m1", "0042", &["--admission-code", &c43]);
    assert_ne!(wrong.status.code(), Some(0));
    ok(&start(
        "m1",
        "0042",
        &["--admission-code", &c42.to_lowercase()],
    ));
    // A walk-in: the proctor admits them.
    let walk_in = start(
        "m2",
        "0099",
        &[
            "--name",
            "Walk In",
            "--proctor-admits",
            "--passphrase",
            "proctor secret",
        ],
    );
    ok(&walk_in);
}
