//! The venue relay (`sqlexam serve --relay-to URL`): a sqlexam server on a proctor's laptop
//! that takes the room's records over the venue LAN like any server, and forwards them
//! verbatim to the central server whenever the internet is up (store and forward). It is the
//! composition of the two sides: sqlexam-server, and a sync client like a candidate's
//! machine — `sqlexam_sync`'s passes and background task over an outbox of the records the
//! server holds in its chains ([`outbox`]) — so the central server's receipts are checked
//! as a device checks them: its key pinned at first contact, each checkpoint consistent
//! with the last one seen, each record's inclusion proof against the record's own bytes. A
//! record counts as forwarded only once that proof is stored.
//!
//! The relay runs on the SQLite store (a laptop's): its queue is kept in that database by
//! `sqlexam_server::store::sqlite::relay`.

#![forbid(unsafe_code)]

pub mod outbox;
mod room;

use std::sync::Arc;

use sqlexam_server::store::sqlite::relay::RelayQueue;
use sqlexam_server::{ServerError, Settings, Uplink};
use sqlexam_sync::{Server, SyncState, SyncStatus};
use tokio::sync::watch;

pub use room::{RoomError, room_export};

use outbox::RelayOutbox;

/// Where the relay forwards to.
#[derive(Debug, Clone)]
pub struct RelayTo {
    /// The central server (`https://…`).
    pub url: String,
    /// A venue (or organizer) token of the central server.
    pub token: Option<String>,
}

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("the relay's queue cannot be opened")]
    Queue(#[source] sqlexam_server::store::StoreError),
    #[error("--relay-to: {0}")]
    Address(#[source] sqlexam_sync::SyncError),
    #[error("cannot start the relay")]
    Start(#[source] std::io::Error),
}

/// A running relay: its task's status, and its outbox for counts as of now.
#[derive(Clone)]
pub struct Relay {
    status: watch::Receiver<SyncStatus>,
    outbox: Arc<RelayOutbox>,
}

impl Relay {
    /// The task's status, with the backlog counted now (records the room sent since the
    /// task last looked are waiting too).
    pub fn sync_status(&self) -> SyncStatus {
        let mut status = self.status.borrow().clone();
        if let Ok(counts) = self.outbox.counts() {
            status.unsent = counts.unsent;
            status.last_synced_wall_ms = counts.last_receipt_wall_ms;
            if counts.unsent > 0 && status.state == SyncState::Synced {
                status.state = SyncState::Syncing;
            }
        }
        status
    }
}

impl Uplink for Relay {
    fn status(&self) -> serde_json::Value {
        serde_json::to_value(self.sync_status()).unwrap_or_default()
    }

    fn upstream(
        &self,
        session: &str,
    ) -> Result<Option<sqlexam_core::protocol::Upstream>, sqlexam_server::store::StoreError> {
        self.outbox.upstream(session)
    }
}

/// Starts the forwarding task on a thread of its own (its storage calls block), over the
/// server's SQLite store in `data_dir`; it forwards until `stop` fires.
pub fn start(
    data_dir: &std::path::Path,
    to: &RelayTo,
    mut stop: watch::Receiver<bool>,
) -> Result<Relay, RelayError> {
    let queue =
        RelayQueue::open(&data_dir.join("server.sqlite"), &to.url).map_err(RelayError::Queue)?;
    let outbox = Arc::new(RelayOutbox::new(queue));
    let task_outbox = outbox.clone();
    let server = Server::parse(&to.url, to.token.as_deref()).map_err(RelayError::Address)?;
    let (servers_tx, servers_rx) = watch::channel(Some(server));
    let (status_tx, status_rx) = watch::channel(SyncStatus {
        state: SyncState::Syncing,
        unsent: 0,
        last_synced_wall_ms: None,
        server: Some(to.url.clone()),
        message: None,
        retry_in_ms: None,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RelayError::Start)?;
    std::thread::Builder::new()
        .name("sqlexam-relay".into())
        .spawn(move || {
            runtime.block_on(async move {
                let forward = sqlexam_sync::run(task_outbox, servers_rx, status_tx);
                tokio::select! {
                    () = forward => {}
                    _ = stop.wait_for(|s| *s) => drop(servers_tx),
                }
            });
        })
        .map_err(RelayError::Start)?;
    Ok(Relay {
        status: status_rx,
        outbox,
    })
}

/// Runs a relay: the server on `store` (opened with `sqlexam_server::open_sqlite` on
/// `settings.data_dir`, which made the tables the queue lives in), forwarding to `to` until
/// `shutdown` resolves (then the forwarding task stops too).
pub async fn launch(
    mut settings: Settings,
    store: Arc<dyn sqlexam_server::Store>,
    to: &RelayTo,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let relay = start(&settings.data_dir, to, stop_rx)?;
    settings.uplink = Some(Arc::new(relay));
    let served = sqlexam_server::launch(settings, store, listener, shutdown).await;
    let _ = stop_tx.send(true);
    Ok(served?)
}
