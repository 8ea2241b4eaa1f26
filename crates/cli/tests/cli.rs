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
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dept-count");
    copy_dir(&fixture("dept-count"), &dir);
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
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dept-count");
    copy_dir(&fixture("dept-count"), &dir);
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
