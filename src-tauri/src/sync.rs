//! Sync in the app: the background task of `sqlexam-sync` over the app's engine, the server
//! setting, and the status the top bar shows. Nothing here ever blocks the exam: the task
//! runs on Tauri's async runtime, and an engine that has not opened yet is waited for.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use sqlexam_core::pack::PackInfo;
use sqlexam_sync::{Client, Device, Server, SyncState, SyncStatus};
use tauri::State;
use tokio::sync::watch;

use crate::state::{AppError, AppState, Settings};

/// The sync task's ends of the channels: the server setting in, its status out.
type TaskEnds = (watch::Receiver<Option<Server>>, watch::Sender<SyncStatus>);

/// The channels between the app and its sync task.
pub struct SyncChannels {
    servers: watch::Sender<Option<Server>>,
    status: watch::Receiver<SyncStatus>,
    /// The task's ends, until the task starts.
    task_ends: Mutex<Option<TaskEnds>>,
}

/// The server in the settings, if it is set and well-formed.
fn configured(settings: &Settings) -> Option<Server> {
    let url = settings.server.as_deref()?;
    Server::parse(url, settings.token.as_deref()).ok()
}

impl SyncChannels {
    pub fn new(settings: &Settings) -> SyncChannels {
        let server = configured(settings);
        let first = SyncStatus {
            state: if server.is_some() {
                SyncState::Syncing
            } else {
                SyncState::Off
            },
            unsent: 0,
            last_synced_wall_ms: None,
            server: server.as_ref().map(|s| s.url.clone()),
            message: None,
            retry_in_ms: None,
        };
        let (servers, servers_rx) = watch::channel(server);
        let (status_tx, status) = watch::channel(first);
        SyncChannels {
            servers,
            status,
            task_ends: Mutex::new(Some((servers_rx, status_tx))),
        }
    }
}

/// The app's engine, for the sync task (it opens after the window is up).
struct AppDevice(Arc<AppState>);

impl Device for AppDevice {
    fn outbox(&self) -> Option<&dyn sqlexam_sync::Outbox> {
        self.0
            .engine_if_open()
            .map(|e| e as &dyn sqlexam_sync::Outbox)
    }
}

/// Starts the sync task (once).
pub fn start(state: Arc<AppState>) {
    let ends = state
        .sync
        .task_ends
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some((servers, status)) = ends {
        tauri::async_runtime::spawn(sqlexam_sync::run(AppDevice(state), servers, status));
    }
}

/// What the top bar and the sync dialog show.
#[derive(Serialize)]
pub struct SyncView {
    #[serde(flatten)]
    status: SyncStatus,
    /// The address in the settings (shown in the dialog even when it is not valid).
    address: Option<String>,
    /// Whether a token is set (the token itself never goes back to the UI).
    token_set: bool,
}

fn view(state: &AppState) -> SyncView {
    let settings = state
        .settings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    SyncView {
        status: state.sync.status.borrow().clone(),
        address: settings.server,
        token_set: settings.token.is_some(),
    }
}

#[tauri::command]
pub fn sync_status(state: State<'_, Arc<AppState>>) -> SyncView {
    view(&state)
}

/// Sets the server (an empty address turns sync off). An empty token keeps the one set.
#[tauri::command]
pub fn set_sync_server(
    state: State<'_, Arc<AppState>>,
    address: String,
    token: String,
) -> Result<SyncView, AppError> {
    let address = address.trim();
    let token = Some(token.trim().to_owned()).filter(|t| !t.is_empty());
    let next = {
        let settings = state.settings.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = settings.clone();
        next.server = Some(address.to_owned()).filter(|a| !a.is_empty());
        if token.is_some() {
            next.token = token;
        }
        next
    };
    let server = match &next.server {
        Some(url) => Some(
            Server::parse(url, next.token.as_deref())
                .map_err(|e| AppError::new("bad_server", e.to_string()))?,
        ),
        None => None,
    };
    *state.settings.lock().unwrap_or_else(|e| e.into_inner()) = next;
    state.save_settings()?;
    state.sync.servers.send_replace(server);
    Ok(view(&state))
}

/// A pack downloaded ahead of the exam: verified, kept for check-in, and saved.
#[derive(Serialize)]
pub struct Downloaded {
    info: PackInfo,
    /// Where the pack was saved, to be opened from there when the network is gone.
    path: String,
}

/// Downloads exam `exam`'s pack from the server set for sync and verifies it exactly as a
/// pack file is verified; a pack that verifies is kept for check-in and saved under the data
/// folder (`downloads/`), so the exam does not need the network.
#[tauri::command]
pub async fn fetch_pack(
    state: State<'_, Arc<AppState>>,
    exam: String,
) -> Result<Downloaded, AppError> {
    let exam = exam.trim().to_owned();
    if exam.is_empty() {
        return Err(AppError::new("exam_missing", "enter the exam's id"));
    }
    let settings = state
        .settings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let server = configured(&settings).ok_or_else(|| {
        AppError::new(
            "no_server",
            "no server is set: set it in the sync settings first",
        )
    })?;
    let bytes = Client::new(server)?.pack(&exam).await?;
    let state = state.inner().clone();
    tauri::async_runtime::spawn_blocking(move || {
        // The exam asked for, read from the signed manifest before anything else is kept
        // (a pack that does not even have one is refused by the verification below).
        if let Ok((manifest, _)) = sqlexam_core::pack::signed_manifest(&bytes[..])
            && manifest.id != exam
        {
            return Err(AppError::new(
                "wrong_exam",
                format!(
                    "the server sent the pack of exam {:?}, not {exam:?}",
                    manifest.id
                ),
            ));
        }
        let info = crate::commands::offer_pack(&state, bytes.clone())?;
        let dir = state.dir.join("downloads");
        let path = dir.join(format!("{}-{}.sqlexam", info.id, info.version));
        std::fs::create_dir_all(&dir)
            .and_then(|()| sqlexam_core::fsutil::write_atomic(&path, &bytes, false))
            .map_err(|e| AppError::new("io", format!("{}: {e}", path.display())))?;
        Ok(Downloaded {
            info,
            path: path.display().to_string(),
        })
    })
    .await
    .map_err(|e| AppError::new("internal", e.to_string()))?
}
