//! The commands the UI calls (through ui/src/backend.ts). Each is a few lines over
//! sqlexam-core, and runs off the main thread (async commands on Tauri's runtime, with the
//! blocking engine calls in `spawn_blocking`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use sqlexam_core::pack::PackInfo;
use sqlexam_core::problem::ProblemView;
use sqlexam_core::record::ProctorAction;
use sqlexam_core::session::{RecordsReport, SessionView, SubmissionView};
use tauri::{Manager, State};

use crate::cells::ForUi;
use crate::state::{AppError, AppState, PendingPack};

pub(crate) type Shared<'a> = State<'a, Arc<AppState>>;

/// Runs blocking engine work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared<'_>,
    f: impl FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let state = state.inner().clone();
    tauri::async_runtime::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| AppError::new("internal", e.to_string()))?
}

#[derive(Serialize)]
pub struct AppStateView {
    lang: String,
    demo_pack: bool,
    pack: Option<PackInfo>,
    session: Option<SessionView>,
    device_id: String,
}

/// For the start-up benchmark (BENCHMARKS.md): with `SQLEXAM_PRINT_READY` set, the app
/// prints `ready` when the UI first has its state, i.e. when it has become interactive.
fn report_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("SQLEXAM_PRINT_READY").is_some() {
        READY.call_once(|| {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ready");
            let _ = out.flush();
        });
    }
}

#[tauri::command]
pub async fn app_state(state: Shared<'_>) -> Result<AppStateView, AppError> {
    let view = app_state_view(&state).await;
    report_ready();
    view
}

async fn app_state_view(state: &Shared<'_>) -> Result<AppStateView, AppError> {
    blocking(state, |s| {
        let engine = s.engine()?;
        let session = match s.current_session() {
            Ok(id) => Some(s.note(&engine.view(&id)?)),
            Err(_) => None,
        };
        Ok(AppStateView {
            lang: s
                .settings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .lang
                .clone(),
            demo_pack: demo_pack_path().is_some(),
            pack: s
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|p| p.info.clone()),
            session,
            device_id: engine.device_id(),
        })
    })
    .await
}

#[tauri::command]
pub async fn set_language(state: Shared<'_>, lang: String) -> Result<(), AppError> {
    if lang != "en" && lang != "ja" {
        return Err(AppError::new(
            "invalid",
            format!("unknown language {lang:?}"),
        ));
    }
    blocking(&state, move |s| {
        s.settings.lock().unwrap_or_else(|e| e.into_inner()).lang = lang;
        s.save_settings()
    })
    .await
}

/// Checks a pack file as check-in will (signature, trust, window, version) and keeps it.
fn open_file(s: &AppState, path: &std::path::Path) -> Result<PackInfo, AppError> {
    let bytes =
        std::fs::read(path).map_err(|e| AppError::new("io", format!("{}: {e}", path.display())))?;
    offer_pack(s, bytes)
}

/// Checks a pack's bytes as check-in will (signature, trust, window, version) and keeps it
/// for check-in: a file, or a download (crate::sync).
pub(crate) fn offer_pack(s: &AppState, bytes: Vec<u8>) -> Result<PackInfo, AppError> {
    let info = s.engine()?.inspect_pack(&bytes)?;
    *s.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(PendingPack {
        bytes,
        info: info.clone(),
    });
    Ok(info)
}

/// The demo pack, in demo builds: `SQLEXAM_DEMO_PACK` (scripts/run.sh builds it).
fn demo_pack_path() -> Option<std::path::PathBuf> {
    if !cfg!(feature = "demo") {
        return None;
    }
    std::env::var_os("SQLEXAM_DEMO_PACK")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_file())
}

#[tauri::command]
pub async fn open_pack(state: Shared<'_>, path: String) -> Result<PackInfo, AppError> {
    blocking(&state, move |s| open_file(s, std::path::Path::new(&path))).await
}

#[tauri::command]
pub async fn open_demo_pack(state: Shared<'_>) -> Result<PackInfo, AppError> {
    let path =
        demo_pack_path().ok_or_else(|| AppError::new("no_pack", "this build has no demo pack"))?;
    blocking(&state, move |s| open_file(s, &path)).await
}

#[tauri::command]
pub async fn check_in(
    state: Shared<'_>,
    candidate_id: String,
    candidate_name: String,
    start_code: String,
    admission_code: String,
    proctor_passphrase: String,
) -> Result<SessionView, AppError> {
    blocking(&state, move |s| {
        let pending = s.pending.lock().unwrap_or_else(|e| e.into_inner()).take();
        let pack = pending.ok_or_else(|| AppError::new("no_pack", "open a pack first"))?;
        let code = Some(start_code.as_str()).filter(|c| !c.trim().is_empty());
        // On a pack with a roster: the candidate's code, or a proctor's passphrase.
        let admit = if !admission_code.trim().is_empty() {
            sqlexam_core::session::Admit::Code(admission_code.trim())
        } else if !proctor_passphrase.is_empty() {
            sqlexam_core::session::Admit::Proctor(&proctor_passphrase)
        } else {
            sqlexam_core::session::Admit::Nobody
        };
        let started = s.engine()?.start_admitted(
            &pack.bytes,
            code,
            candidate_id.trim(),
            candidate_name.trim(),
            admit,
        );
        let id = match started {
            Ok(id) => id,
            Err(e) => {
                // Keep the pack open so the candidate can correct the code.
                *s.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(pack);
                return Err(e.into());
            }
        };
        *s.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.clone());
        Ok(s.note(&s.engine()?.view(&id)?))
    })
    .await
}

#[tauri::command]
pub async fn session_view(state: Shared<'_>) -> Result<SessionView, AppError> {
    blocking(&state, |s| {
        Ok(s.note(&s.engine()?.view(&s.current_session()?)?))
    })
    .await
}

#[tauri::command]
pub async fn problem(state: Shared<'_>, id: String) -> Result<ForUi<ProblemView>, AppError> {
    blocking(&state, move |s| {
        Ok(ForUi(
            s.engine()?
                .problem(&s.current_session()?, &id)?
                .candidate_view(),
        ))
    })
    .await
}

#[tauri::command]
pub async fn drafts(state: Shared<'_>) -> Result<BTreeMap<String, String>, AppError> {
    blocking(&state, |s| Ok(s.engine()?.drafts(&s.current_session()?)?)).await
}

#[tauri::command]
pub async fn save_draft(state: Shared<'_>, problem: String, text: String) -> Result<(), AppError> {
    blocking(&state, move |s| {
        Ok(s.engine()?
            .save_draft(&s.current_session()?, &problem, &text)?)
    })
    .await
}

#[tauri::command]
pub async fn run_sample(state: Shared<'_>, problem: String, sql: String) -> Result<u64, AppError> {
    blocking(&state, move |s| {
        Ok(s.engine()?
            .run_sample(&s.current_session()?, &problem, &sql)?)
    })
    .await
}

#[tauri::command]
pub async fn submit(state: Shared<'_>, problem: String, sql: String) -> Result<u64, AppError> {
    blocking(&state, move |s| {
        Ok(s.engine()?.submit(&s.current_session()?, &problem, &sql)?)
    })
    .await
}

#[tauri::command]
pub async fn submissions(
    state: Shared<'_>,
    problem: String,
) -> Result<Vec<SubmissionView>, AppError> {
    blocking(&state, move |s| {
        Ok(s.engine()?
            .problem_submissions(&s.current_session()?, &problem)?)
    })
    .await
}

#[tauri::command]
pub async fn finish(state: Shared<'_>) -> Result<SessionView, AppError> {
    blocking(&state, |s| {
        let id = s.current_session()?;
        s.engine()?.finish(&id)?;
        Ok(s.note(&s.engine()?.view(&id)?))
    })
    .await
}

#[tauri::command]
pub async fn proctor(
    state: Shared<'_>,
    passphrase: String,
    action: ProctorAction,
) -> Result<SessionView, AppError> {
    blocking(&state, move |s| {
        let id = s.current_session()?;
        s.engine()?.proctor(&id, &passphrase, action)?;
        Ok(s.note(&s.engine()?.view(&id)?))
    })
    .await
}

#[tauri::command]
pub async fn proctor_records(
    state: Shared<'_>,
    passphrase: String,
) -> Result<RecordsReport, AppError> {
    blocking(&state, move |s| {
        let (engine, id) = (s.engine()?, s.current_session()?);
        engine.check_proctor(&id, &passphrase)?;
        Ok(engine.record_rows(&id)?)
    })
    .await
}

#[tauri::command]
pub async fn confirm_close<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
) -> Result<(), AppError> {
    state.confirm_close();
    if let Some(window) = app.get_webview_window("main") {
        window
            .close()
            .map_err(|e| AppError::new("internal", e.to_string()))?;
    }
    Ok(())
}
