//! sqlexam-export: what leaves an exam for people and for other machines.
//!
//! - [`results`]: one model of an exam's results (candidates × problems, best scores,
//!   re-grade state), built from verified records (a device, a bundle) or from a server's
//!   submissions, so every writer below shows the same numbers.
//! - [`table`]: the results as CSV (Excel-safe) and XLSX; JSON is the model itself
//!   (docs/export-format.md).
//! - [`clics`]: the results as a CLICS `scoreboard.json` and a `results.tsv`.
//! - [`bundle`]: a proctor's signed results bundle — the records verbatim in the sync wire
//!   format, the receipts the device holds, the roster — and its offline check.
//!
//! - [`report`]: the printable session report (HTML, and PDF through a headless browser).
//! - [`machine`]: a proctor's export of one machine: all of the above into one folder.
//!
//! No network and no Tauri: the app, the CLI and the server call into this.

pub mod bundle;
pub mod clics;
pub mod machine;
pub mod report;
pub mod results;
pub mod slips;
pub mod table;

pub mod lang;

pub use lang::Lang;

/// `name` with every character a file system (FAT on a USB stick, Windows, a browser's
/// download) might refuse replaced by `_`: what every exported file is named with.
pub fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the workbook: {0}")]
    Xlsx(String),
    #[error("{0}")]
    Invalid(String),
}

impl sqlexam_core::ErrorCode for ExportError {
    fn code(&self) -> &'static str {
        match self {
            ExportError::Xlsx(_) => "xlsx",
            ExportError::Invalid(_) => "invalid",
        }
    }
}
