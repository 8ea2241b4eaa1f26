//! sqlexam-sync: sends a device's records to a server, exactly once, and keeps the proof
//! that the server holds them (docs/sync.md). The sending side is an [`Outbox`]: a
//! candidate's machine, or a venue relay forwarding its room's records.
//!
//! A pass ([`sync_pass`]) first asks the server what it already holds of each session with
//! unsent records (so a device that crashed or lost an answer does not send everything
//! again), then sends the outbox in seq order, in batches. Every answer carries a receipt:
//! the server's signed checkpoint of its append-only log and an inclusion proof per record.
//! A record is marked synced only when its proof verifies against the device's own bytes,
//! under a checkpoint that is one history with every checkpoint the device saw before
//! (consistency proof) — a server that drops or rewrites records is caught, and nothing is
//! marked. [`run`] repeats passes in the background with capped, jittered backoff, and
//! publishes what the app shows.

mod client;
mod outbox;
mod pass;
mod run;

pub use client::{BATCH_RECORDS, Client, Server, tls_provider};
pub use outbox::{Outbox, Unsent};
pub use pass::{Accepted, PassReport, accept_receipt, check_log, keep_upstream, sync_pass};
pub use run::{Backoff, Device, SyncState, SyncStatus, run, settle};

use std::time::Duration;

/// What a failure came from (the network, the device's store, a proof), kept so the
/// edge can show the whole chain.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Why a pass stopped. What happens next depends on the kind.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The server could not be reached: retried as soon as it can be.
    #[error("cannot reach {server}")]
    Offline {
        server: String,
        #[source]
        cause: Cause,
    },
    /// The server is overloaded and said how long to wait (429).
    #[error("the server asks to wait {} s (too many requests)", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// The server failed (5xx): retried with backoff.
    #[error("the server failed: {message}")]
    Server {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The server refused the request (bad token, bad address): a person must act. The
    /// text is the server's.
    #[error("{0}")]
    Refused(String),
    /// The server holds no such thing (an exam's pack it was never given).
    #[error("{0}")]
    NotFound(String),
    /// The server's receipts do not hold up: nothing it says is taken. A person must act.
    #[error("the server's proof does not hold: {0}")]
    Untrusted(String),
    /// A checkpoint or proof of the server's failed its check (the same as `Untrusted`,
    /// with the check that failed as its cause).
    #[error("the server's proof does not hold")]
    Disproved(#[from] sqlexam_core::tlog::LogError),
    /// The device's store failed.
    #[error("the device's store failed")]
    Store(#[source] Cause),
    /// The settings are wrong (no valid address).
    #[error("{0}")]
    Config(String),
}

impl sqlexam_core::ErrorCode for SyncError {
    fn code(&self) -> &'static str {
        match self {
            SyncError::Offline { .. } => "offline",
            SyncError::RateLimited { .. } => "rate_limited",
            SyncError::Server { .. } => "server_error",
            SyncError::Refused(_) => "refused",
            SyncError::NotFound(_) => "not_found",
            SyncError::Untrusted(_) | SyncError::Disproved(_) => "untrusted_server",
            SyncError::Store(_) => "store",
            SyncError::Config(_) => "config",
        }
    }

    fn retryable(&self) -> bool {
        matches!(
            self,
            SyncError::Offline { .. } | SyncError::RateLimited { .. } | SyncError::Server { .. }
        )
    }
}

impl From<sqlexam_core::session::SessionError> for SyncError {
    fn from(e: sqlexam_core::session::SessionError) -> Self {
        SyncError::Store(std::sync::Arc::new(e))
    }
}
