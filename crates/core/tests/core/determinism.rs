//! The fingerprint of the grader's behaviour that must be the same on every platform: for
//! the starter pack's labelled submissions and the hostile-SQL suite, each verdict and each
//! dataset's step count. `scripts/windows-check.sh` runs this with the Linux and the Windows
//! build and diffs the two files; it is ignored in ordinary runs, which the suites it reads
//! from already cover.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use sqlexam_core::grade::{Grading, Scope, Verdict, grade};
use sqlexam_core::problem::{Problem, load_problem, read_pack_source};

use crate::hostile::{dml_cases, select_cases};
use crate::{data, dept_count, raise};

/// Grades with the wall-clock backstop out of the way: it is machine-dependent by design,
/// and this compares what must not be (a slow runner would otherwise cut datasets short).
fn graded(problem: &Problem, sql: &str) -> Grading {
    let mut problem = problem.clone();
    problem.limits.wall_ms = 3_600_000;
    grade(&problem, sql, Scope::All)
}

fn line(out: &mut String, problem: &str, label: &str, g: &Grading) {
    let datasets: Vec<String> = g
        .datasets
        .iter()
        .map(|d| format!("{}={:?}/{}", d.name, d.verdict, d.steps.unwrap_or(0)))
        .collect();
    let label: String = label.chars().take(60).collect();
    let _ = writeln!(
        out,
        "{problem}\t{}\t{:?}\t{}",
        label.escape_debug(),
        g.verdict,
        datasets.join(" ")
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    out
}

fn starter_pack(out: &mut String) {
    let root = data("../../../../problems/sql-basics");
    let source = read_pack_source(&root).expect("the starter pack reads");
    for dir in &source.problem_dirs {
        let problem = load_problem(dir, &source.defaults).expect("a starter problem loads");
        let reference: Vec<String> = problem
            .datasets
            .iter()
            .map(|d| format!("{}/{}", d.name, d.reference_steps))
            .collect();
        let _ = writeln!(out, "{}\treference\t{}", problem.id, reference.join(" "));
        let mut files = walk(&dir.join("submissions"));
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file).expect("a submission reads");
            let label = file
                .strip_prefix(dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            line(out, &problem.id, &label, &graded(&problem, &sql));
        }
    }
}

#[test]
#[ignore = "run by scripts/windows-check.sh on Linux and on Windows, which diffs the output"]
fn fingerprint() {
    let mut out = String::new();
    starter_pack(&mut out);
    for (i, (sql, _)) in select_cases().iter().enumerate() {
        let g = graded(dept_count(), sql);
        line(&mut out, "hostile-select", &format!("{i} {sql}"), &g);
    }
    for (i, (sql, _)) in dml_cases().iter().enumerate() {
        let g = graded(raise(), sql);
        line(&mut out, "hostile-dml", &format!("{i} {sql}"), &g);
    }
    // Nothing above may have been cut by the wall clock: that would not be comparable.
    assert!(
        !out.contains(&format!("{:?}/0 ", Verdict::TimeLimitExceeded)),
        "a dataset was not run"
    );
    let path = std::env::var("SQLEXAM_FINGERPRINT")
        .expect("SQLEXAM_FINGERPRINT names the file to write the fingerprint to");
    std::fs::write(&path, out).expect("the fingerprint file is written");
}
