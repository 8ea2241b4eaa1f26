//! sqlexam-core: the exam's domain logic with no Tauri and no network.
//!
//! `problem` reads problem sources and holds loaded problems (images + expected results);
//! `grade` runs one candidate submission in a hardened SQLite sandbox and compares results.
//! `pack` builds, signs, seals and verifies problem packs. Below both problems and the
//! grader, `image` opens and reads SQLite images. Every error type keeps one contract,
//! [`ErrorCode`].
//! The grader never sees a problem's reference SQL: only the results it produced at load.

pub mod cosign;
pub mod crypto;
pub mod encoding;
pub mod fsutil;
pub mod grade;
pub mod migrate;
pub mod pack;
pub mod problem;
pub mod protocol;
pub mod record;
pub mod session;
pub mod tlog;
pub mod value;

mod error;
mod image;
mod platform;
mod sqlite_ffi;

pub use error::{Error, ErrorCode, Result, error_chain};

/// Prepares SQLite for grading in this process (the allocation count the time limit
/// charges). sqlexam-core calls it before each connection it opens; a program that opens
/// rusqlite connections of its own and also grades must call it before its first one.
/// Returns false if SQLite was already initialized, in which case grading refuses to run.
pub fn init_sqlite() -> bool {
    sqlite_ffi::init()
}

/// The version of this grader, recorded next to every verdict.
pub const GRADER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the bundled SQLite that grades (the same on every platform).
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// Whether the system locale (LC_ALL, then LC_MESSAGES, then LANG) is Japanese: the
/// default language of the CLI and the app until the user chooses.
pub fn locale_is_japanese() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .is_some_and(|l| l.starts_with("ja"))
}
