//! The proctor's export from the app: this machine's signed bundle and its results (CSV,
//! XLSX, JSON) written into a folder the proctor chose, in the app's language. The work is
//! sqlexam-export's, the same as `sqlexam bundle create`.

use std::path::Path;

use serde::Serialize;
use sqlexam_export::Lang;
use sqlexam_export::machine::{self, Request};

use crate::commands::{Shared, blocking};
use crate::state::AppError;

/// What the export wrote, for the proctor to read.
#[derive(Serialize)]
pub struct ExportView {
    files: Vec<String>,
    folder: String,
    records: usize,
    sessions: usize,
    candidates: usize,
    fingerprint: String,
    /// Why no PDF report was printed (the HTML report is there to print by hand).
    pdf_error: Option<String>,
}

#[tauri::command]
pub async fn export_results(
    state: Shared<'_>,
    passphrase: String,
    folder: String,
    venue: String,
) -> Result<ExportView, AppError> {
    blocking(&state, move |s| {
        let folder = folder.trim();
        if folder.is_empty() {
            return Err(AppError::new(
                "folder_missing",
                "choose the folder to export into (a USB stick)",
            ));
        }
        let engine = s.engine()?;
        let view = engine.view(&s.current_session()?)?;
        let lang = {
            let settings = s.settings.lock().unwrap_or_else(|e| e.into_inner());
            Lang::parse(&settings.lang).unwrap_or_default()
        };
        let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
        let done = machine::export(&Request {
            dir: &s.dir,
            pack: Some(&view.pack.hash),
            passphrase: &passphrase,
            venue: venue.trim(),
            lang,
            out: Path::new(folder),
            now: &now,
            // The report for the paperwork, printed if this machine has a browser to print.
            pdf: true,
        })?;
        Ok(ExportView {
            files: done
                .files
                .iter()
                .filter_map(|f| f.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
            folder: folder.to_owned(),
            records: done.records,
            sessions: done.sessions,
            candidates: done.results.candidates.len(),
            fingerprint: done.fingerprint,
            pdf_error: done.pdf_error,
        })
    })
    .await
}
