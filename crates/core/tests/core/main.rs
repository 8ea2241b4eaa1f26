//! Integration tests of sqlexam-core against the fixture pack in tests/data/company.
#![allow(clippy::unwrap_used)] // tests and benches: a panic is the failure report

mod determinism;
mod format;
mod grading;
mod hostile;
mod pack;
mod session;

use std::path::PathBuf;
use std::sync::OnceLock;

use sqlexam_core::problem::{Problem, load_problem_in_context};

pub fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// The select fixture: departments with their staff count (LEFT JOIN, zero counts).
pub fn dept_count() -> &'static Problem {
    static P: OnceLock<Problem> = OnceLock::new();
    P.get_or_init(|| load_problem_in_context(&data("company/dept-count")).expect("fixture loads"))
}

/// A problem whose correct answers include a quadratic one over 5,000 rows.
pub fn colleagues() -> &'static Problem {
    static P: OnceLock<Problem> = OnceLock::new();
    P.get_or_init(|| {
        load_problem_in_context(&data("limits/colleagues-earning-more")).expect("fixture loads")
    })
}

/// The DML fixture: a 10 % raise for department 2.
pub fn raise() -> &'static Problem {
    static P: OnceLock<Problem> = OnceLock::new();
    P.get_or_init(|| load_problem_in_context(&data("company/raise")).expect("fixture loads"))
}
