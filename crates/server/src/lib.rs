//! The central server (docs/api.md): takes signed result records from devices, venues and
//! proctors' bundles, verifies and stores them, answers with signed receipts, re-grades
//! every submission, and shows organizers the results.
//!
//! Three layers, each knowing only the one below: [`http`] (routes, authorization), the
//! [`domain`] (the rules: no HTTP, no SQL) and the [`store`] (one trait, a module per
//! backend); [`model`] is the plain data they share, [`grader`] the re-grade workers and
//! their child processes. [`launch`] runs it on a listener until `shutdown` resolves, then
//! finishes the requests in flight and stops the re-grade workers. `sqlexam serve` is a
//! thin call into it; a venue relay (sqlexam-relay) composes it with a sync client through
//! [`Uplink`].

pub mod domain;
pub mod grader;
pub mod http;
pub mod model;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlexam_core::crypto::SigningKey;
use sqlexam_core::pack::Trust;

pub use grader::{GraderCommand, child_main};
pub use store::Store;

/// Everything a server needs to run.
pub struct Settings {
    /// Holds the server key (`server.key`), the SQLite database (`server.sqlite`) unless
    /// the store is PostgreSQL, and the packs handed to grading children.
    pub data_dir: PathBuf,
    /// Organizer keys a pack must be signed by (or endorsed from) to be uploaded.
    pub trust: Trust,
    /// How to start a grading child.
    pub grader: GraderCommand,
    /// Re-grade workers in this process (0: this process only takes records).
    pub workers: usize,
    /// What this server forwards to, shown at `GET /v1/relay` (a venue relay's uplink).
    pub uplink: Option<Arc<dyn Uplink>>,
    /// Witnesses asked to cosign the log's checkpoints.
    pub witnesses: Vec<domain::witnessing::WitnessTarget>,
}

/// Something this server forwards its records to, reporting how far it has gone: a venue
/// relay's sync toward the central server.
pub trait Uplink: Send + Sync {
    /// The status as `GET /v1/relay` shows it (JSON). May read a database: called off the
    /// async threads.
    fn status(&self) -> serde_json::Value;
    /// What the upstream server proved of `session` (`GET /v1/upstream/sessions/{id}`),
    /// once it was contacted. May read a database: called off the async threads.
    fn upstream(
        &self,
        session: &str,
    ) -> Result<Option<sqlexam_core::protocol::Upstream>, store::StoreError>;
}

/// Why the server could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("{}: cannot keep a private key there", path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: the private key cannot be read or made", path.display())]
    KeyDamaged {
        path: PathBuf,
        #[source]
        source: sqlexam_core::crypto::KeyError,
    },
    #[error("{}: cannot open the server's database", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The PostgreSQL URL is shown without its password.
    #[error("{url}: cannot use the PostgreSQL database")]
    Connect {
        url: String,
        #[source]
        source: store::StoreError,
    },
    #[error("the server stopped")]
    Serve(#[source] std::io::Error),
    /// The database's log does not bear out the newest checkpoint this server signed.
    #[error(transparent)]
    Behind(#[from] domain::watermark::Behind),
    #[error("cannot read the record log to check it against the newest signed checkpoint")]
    Check(#[source] store::StoreError),
    #[error("the system random source failed")]
    Random,
}

/// The server key: created on first start, kept in the data folder (mode 0600). Several
/// server processes on one database must share it (the same data folder, or a copy).
pub fn server_key(data_dir: &Path) -> Result<SigningKey, ServerError> {
    private_key(data_dir, "server.key")
}

/// The private key in `file` of `data_dir`: created on first start (mode 0600, in a folder
/// only its owner reads), read after.
pub fn private_key(data_dir: &Path, file: &str) -> Result<SigningKey, ServerError> {
    let path = data_dir.join(file);
    let io = |source| ServerError::Key {
        path: path.clone(),
        source,
    };
    let damaged = |source| ServerError::KeyDamaged {
        path: path.clone(),
        source,
    };
    sqlexam_core::fsutil::create_private_dir(data_dir).map_err(io)?;
    for _ in 0..50 {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Ok(key) = SigningKey::from_pem(&text) {
                    return Ok(key);
                }
                // Another process may be writing it this moment: read it again shortly.
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate().map_err(damaged)?;
                // Only one process creates the file; the others read what it wrote.
                match sqlexam_core::fsutil::create_private(&path, key.to_pem().as_bytes()) {
                    Ok(()) => return Ok(key),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&path).map_err(io)?;
    SigningKey::from_pem(&text).map_err(damaged)
}

/// Opens the default store: SQLite in the data folder.
pub fn open_sqlite(data_dir: &Path) -> Result<Arc<dyn Store>, ServerError> {
    // The database holds start codes and token hashes: a folder only its owner can enter.
    sqlexam_core::fsutil::create_private_dir(data_dir).map_err(|e| ServerError::Open {
        path: data_dir.to_owned(),
        source: Box::new(e),
    })?;
    let path = data_dir.join("server.sqlite");
    let store = store::sqlite::SqliteStore::open(&path).map_err(|e| ServerError::Open {
        path,
        source: Box::new(e),
    })?;
    Ok(Arc::new(store))
}

/// Connects to PostgreSQL at `url` (migrating its schema): for several server processes.
#[cfg(feature = "postgres")]
pub async fn open_postgres(url: &str) -> Result<Arc<dyn Store>, ServerError> {
    let store = store::postgres::PgStore::connect(url, 16)
        .await
        .map_err(|source| ServerError::Connect {
            url: redact(url),
            source,
        })?;
    Ok(Arc::new(store))
}

/// A database URL without its password, for messages: the password of the user part
/// (`postgres://user:***@host/db`) and a `password=` parameter are masked.
pub fn redact(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match (head.find("://"), head.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &head[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &head[..scheme + 3],
                    &credentials[..colon],
                    &head[at..]
                ),
                None => head.to_owned(),
            }
        }
        _ => head.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Serves on `listener` until `shutdown` resolves; returns once in-flight requests are
/// answered and the re-grade workers have stopped.
pub async fn launch(
    settings: Settings,
    store: Arc<dyn Store>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let key = server_key(&settings.data_dir)?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let (watermark, signed) = domain::watermark::Watermark::open(&settings.data_dir, &key.public());
    let witnesses = domain::witnessing::Witnessing::new(settings.witnesses);
    let server = Arc::new(domain::Server::new(
        store.clone(),
        key,
        settings.trust,
        wake.clone(),
        watermark,
        witnesses,
    ));
    // A database that lost or changed what this server already signed is not served.
    if let Some(signed) = signed {
        server
            .bears_out(&signed)
            .await
            .map_err(ServerError::Check)??;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let regrader = Arc::new(grader::Regrader {
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
    let witnessing = tokio::spawn(domain::witnessing::run(server.clone(), stop_rx.clone()));
    let app = http::router(http::AppState::new(server, settings.uplink));
    let served = http::listen::serve(listener, app, shutdown)
        .await
        .map_err(ServerError::Serve);
    let _ = stop_tx.send(true);
    let _ = witnessing.await;
    for w in workers {
        let _ = w.await;
    }
    served
}

/// A new bearer token and the hash the server stores (the token itself is shown once).
pub fn new_token() -> Result<(String, String), ServerError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Random)?;
    let token = format!("sqx_{}", sqlexam_core::encoding::hex(&bytes));
    let hash = sqlexam_core::crypto::sha256_hex(token.as_bytes());
    Ok((token, hash))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_password_is_never_shown() {
        use super::redact;
        assert_eq!(
            redact("postgres://u:hunter2@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://u@%2Ftmp%2Fs/x?password=hunter2&sslmode=disable"),
            "postgres://u@%2Ftmp%2Fs/x?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgres://u@h/x"), "postgres://u@h/x");
    }

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
