//! What the shell keeps between commands: the engine (opened off the main thread), the pack
//! opened for check-in, the current session, and the UI language. No exam logic here.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use sqlexam_core::ErrorCode;
use sqlexam_core::pack::{PackInfo, Trust};
use sqlexam_core::session::{
    Clock, Engine, EngineEvent, ScaledClock, SessionError, SessionState, SessionView, SystemClock,
};

/// Errors cross to the UI as `{code, message}`; the UI translates by code.
#[derive(Debug, Clone, Serialize)]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Every error of the core crosses the same way: its stable code and its sentence.
impl<E: ErrorCode> From<E> for AppError {
    fn from(e: E) -> Self {
        // The sentence with its causes: the UI shows it as the proctor's detail.
        AppError::new(e.code(), sqlexam_core::error_chain(&e))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub lang: String,
    /// The server records sync to (none: sync is off; records wait here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The venue token for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A verified pack waiting for a candidate to check in.
pub struct PendingPack {
    pub bytes: Vec<u8>,
    pub info: PackInfo,
}

pub struct AppState {
    pub dir: PathBuf,
    engine: OnceLock<Result<Engine, AppError>>,
    pub pending: Mutex<Option<PendingPack>>,
    pub session: Mutex<Option<String>>,
    pub settings: Mutex<Settings>,
    close_confirmed: AtomicBool,
    /// Whether an exam is under way, kept from the session views and events that pass
    /// through, so the window's close handler (main thread) needs no database.
    live: AtomicBool,
    /// The sync task's settings and status (crate::sync).
    pub sync: crate::sync::SyncChannels,
}

/// The keys this build trusts: the pinned anchors (trust/anchors.json, set by whoever
/// builds the app for real exams) and, in demo builds only, the published DEMO key.
pub fn trust() -> Trust {
    let pinned: Trust =
        serde_json::from_str(include_str!("../trust/anchors.json")).unwrap_or_default();
    with_demo_key(pinned)
}

#[cfg(feature = "demo")]
fn with_demo_key(mut trust: Trust) -> Trust {
    if let Ok(key) = sqlexam_core::crypto::PublicKey::from_pem(include_str!(
        "../../keys/demo/demo-organizer.pub.pem"
    )) {
        trust.anchors.push(sqlexam_core::pack::Anchor::new(
            &key,
            "DEMO organizer (not for real exams)",
        ));
    }
    trust
}

#[cfg(not(feature = "demo"))]
fn with_demo_key(trust: Trust) -> Trust {
    trust
}

/// The exam clock. Debug builds let end-to-end tests speed exam time up
/// (`SQLEXAM_TEST_CLOCK_SPEED=600`: ten minutes pass in a second); release builds ignore it.
fn clock() -> Arc<dyn Clock> {
    let speed = std::env::var("SQLEXAM_TEST_CLOCK_SPEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    match speed {
        Some(speed) if cfg!(debug_assertions) && speed > 1 => Arc::new(ScaledClock::new(speed)),
        _ => Arc::new(SystemClock::default()),
    }
}

/// The UI language when none was chosen: the system locale's.
fn system_lang() -> String {
    if sqlexam_core::locale_is_japanese() {
        "ja".into()
    } else {
        "en".into()
    }
}

impl AppState {
    pub fn new() -> AppState {
        let dir = sqlexam_core::session::default_dir().unwrap_or_else(|| PathBuf::from(".sqlexam"));
        let settings = std::fs::read(dir.join("settings.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Settings {
                lang: system_lang(),
                server: None,
                token: None,
            });
        let sync = crate::sync::SyncChannels::new(&settings);
        AppState {
            dir,
            engine: OnceLock::new(),
            pending: Mutex::new(None),
            session: Mutex::new(None),
            settings: Mutex::new(settings),
            close_confirmed: AtomicBool::new(false),
            live: AtomicBool::new(false),
            sync,
        }
    }

    /// Opens the engine (once) and returns its event stream.
    pub fn start(&self) -> Result<Receiver<EngineEvent>, AppError> {
        // A panic while opening must not leave every command waiting forever.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Engine::open(&self.dir, trust(), clock())
        }))
        .unwrap_or_else(|_| Err(SessionError::store_says("the exam engine failed to start")))
        .map_err(AppError::from);
        let events = opened.as_ref().map(Engine::subscribe).map_err(Clone::clone);
        if let Ok(engine) = &opened {
            *self.session.lock().unwrap_or_else(|e| e.into_inner()) =
                engine.latest_session().ok().flatten();
        }
        let _ = self.engine.set(opened);
        events
    }

    /// The engine, waiting for it to open if the UI asks early.
    pub fn engine(&self) -> Result<&Engine, AppError> {
        self.engine.wait().as_ref().map_err(Clone::clone)
    }

    pub fn current_session(&self) -> Result<String, AppError> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| AppError::new("no_session", "no exam has been started on this computer"))
    }

    /// The engine if it has opened, without waiting (for the main thread).
    pub fn engine_if_open(&self) -> Option<&Engine> {
        self.engine.get().and_then(|r| r.as_ref().ok())
    }

    /// Remembers whether the session a command just reported is under way.
    pub fn note(&self, view: &SessionView) -> SessionView {
        self.live
            .store(view.state != SessionState::Ended, Ordering::SeqCst);
        view.clone()
    }

    pub fn session_ended(&self) {
        self.live.store(false, Ordering::SeqCst);
    }

    pub fn exam_running(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    pub fn close_confirmed(&self) -> bool {
        self.close_confirmed.load(Ordering::SeqCst)
    }

    pub fn confirm_close(&self) {
        self.close_confirmed.store(true, Ordering::SeqCst);
    }

    pub fn save_settings(&self) -> Result<(), AppError> {
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let bytes = serde_json::to_vec_pretty(&settings).unwrap_or_default();
        // Readable by this user only once it holds a venue token.
        let secret = settings.token.is_some();
        sqlexam_core::fsutil::write_atomic(&self.dir.join("settings.json"), &bytes, secret)
            .map_err(|e| AppError::new("store", e.to_string()))
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}
