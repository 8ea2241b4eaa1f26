//! The central server (docs/api.md): takes signed result records from devices, venues and
//! proctors' bundles, verifies and stores them, answers with signed receipts, re-grades
//! every submission, and shows organizers the results.
//!
//! [`launch`] runs it on a listener until `shutdown` resolves, then finishes the requests in
//! flight and stops the re-grade workers. `sqlexam serve` is a thin call into it.

pub mod api;
mod dashboard;
pub mod db;
mod error;
pub mod ingest;
mod limits;
pub mod log;
pub mod regrade;
pub mod relay;
mod results;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlexam_core::crypto::SigningKey;
use sqlexam_core::pack::Trust;

pub use error::ApiFailure;
pub use regrade::{GraderCommand, child_main};

/// Everything a server needs to run.
pub struct Settings {
    /// Holds the server key (`server.key`), the SQLite database (`server.sqlite`) unless
    /// `database` says otherwise, and the packs handed to grading children.
    pub data_dir: PathBuf,
    /// Organizer keys a pack must be signed by (or endorsed from) to be uploaded.
    pub trust: Trust,
    /// How to start a grading child.
    pub grader: GraderCommand,
    /// Re-grade workers in this process (0: this process only takes records).
    pub workers: usize,
    /// Run as a venue relay, forwarding every record to this central server (SQLite only).
    pub relay: Option<relay::RelayTo>,
}

/// The server key: created on first start, kept in the data folder (mode 0600). Several
/// server processes on one database must share it (the same data folder, or a copy).
pub fn server_key(data_dir: &Path) -> Result<SigningKey, String> {
    let path = data_dir.join("server.key");
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    sqlexam_core::fsutil::create_private_dir(data_dir).map_err(|e| shown(&e))?;
    for _ in 0..50 {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Ok(key) = SigningKey::from_pem(&text) {
                    return Ok(key);
                }
                // Another process may be writing it this moment: read it again shortly.
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate().map_err(|e| e.to_string())?;
                // Only one process creates the file; the others read what it wrote.
                match sqlexam_core::fsutil::create_private(&path, key.to_pem().as_bytes()) {
                    Ok(()) => return Ok(key),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(shown(&e)),
                }
            }
            Err(e) => return Err(shown(&e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| shown(&e))?;
    SigningKey::from_pem(&text).map_err(|e| shown(&e))
}

/// Opens the default store: SQLite in the data folder.
pub fn open_sqlite(data_dir: &Path) -> Result<Arc<dyn db::Store>, String> {
    // The database holds start codes and token hashes: a folder only its owner can enter.
    sqlexam_core::fsutil::create_private_dir(data_dir)
        .map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let path = data_dir.join("server.sqlite");
    let store =
        db::sqlite::SqliteStore::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Arc::new(store))
}

/// Connects to PostgreSQL at `url` (migrating its schema): for several server processes.
pub async fn open_postgres(url: &str) -> Result<Arc<dyn db::Store>, String> {
    let store = db::postgres::PgStore::connect(url, 16)
        .await
        .map_err(|e| format!("{}: {e}", redact(url)))?;
    Ok(Arc::new(store))
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Serves on `listener` until `shutdown` resolves; returns once in-flight requests are
/// answered and the re-grade workers have stopped.
pub async fn launch(
    settings: Settings,
    store: Arc<dyn db::Store>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let key = server_key(&settings.data_dir)?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let regrader = Arc::new(regrade::Regrader {
        store: store.clone(),
        command: settings.grader.clone(),
        pack_dir: settings.data_dir.join("packs"),
        wake: wake.clone(),
        known_packs: Default::default(),
    });
    let workers: Vec<_> = (0..settings.workers)
        .map(|i| {
            let name = format!("{}-{i}", std::process::id());
            tokio::spawn(regrader.clone().run(name, stop_rx.clone()))
        })
        .collect();
    let relay = match &settings.relay {
        Some(to) => Some(relay::start(
            &settings.data_dir.join("server.sqlite"),
            to,
            stop_rx.clone(),
        )?),
        None => None,
    };
    let state = api::AppState::new(store, key, settings.trust, wake, relay);
    let app = api::router(state);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("the server stopped: {e}"));
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    served
}

/// A new bearer token and the hash the server stores (the token itself is shown once).
pub fn new_token() -> Result<(String, String), String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed".to_string())?;
    let token = format!("sqx_{}", sqlexam_core::encoding::hex(&bytes));
    let hash = sqlexam_core::crypto::sha256_hex(token.as_bytes());
    Ok((token, hash))
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn a_new_data_folder_and_its_key_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("server");
        super::open_sqlite(&data).unwrap();
        let key = super::server_key(&data).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "start codes and token hashes live here");
        assert_eq!(mode(&data.join("server.key")), 0o600);
        assert_eq!(
            super::server_key(&data).unwrap().public(),
            key.public(),
            "made once"
        );
    }
}
