//! The server's rules, knowing neither HTTP nor SQL: taking records in (parse, check,
//! plan, effects), the record log's proofs, packs and bundles, re-grade decisions, and the
//! results organizers read. It works on [`crate::store::Store`] and answers with data or a
//! [`Refusal`]; `crate::http` turns both into responses.

pub mod audit;
pub mod bundles;
pub mod ingest;
pub mod limits;
pub mod packs;
pub mod plan;
pub mod regrade;
pub mod results;
pub mod standing;
pub mod tlog;
pub mod tokens;
pub mod watermark;
pub mod witnessing;

use std::sync::Arc;

use sqlexam_core::crypto::SigningKey;
use sqlexam_core::pack::Trust;

use crate::store::{Store, StoreError};
use limits::{Limiter, Rate};

/// Why the server refuses a request, as the domain sees it. The HTTP layer gives each kind
/// its status; `code` is the stable code of the API's error body (docs/api.md).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The request is malformed (a broken batch line, a bad query value).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        line: Option<usize>,
    },
    /// Well-formed, but not what the server can take (a pack that does not verify, a
    /// bundle changed after signing).
    #[error("{message}")]
    Unacceptable {
        code: &'static str,
        message: String,
        line: Option<usize>,
    },
    /// Contradicts what the server already holds.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// Too many requests from one device or token: wait `retry_after` seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    #[error("the server could not store or read data")]
    Store(#[from] StoreError),
    /// A task of the server's own failed (a panic in a blocking task).
    #[error("the server failed inside")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Refusal {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::Invalid {
            code,
            message: message.into(),
            line: None,
        }
    }

    pub fn unacceptable(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::Unacceptable {
            code,
            message: message.into(),
            line: None,
        }
    }

    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Refusal::Internal(e.into())
    }
}

pub type Outcome<T> = Result<T, Refusal>;

/// The server's state behind the API: its store, its key, whom it trusts, and what its
/// rules keep in memory (device rates, the log's sequencer, the re-grade workers' bell).
pub struct Server {
    pub store: Arc<dyn Store>,
    pub key: SigningKey,
    pub trust: Trust,
    /// Rung when submissions are queued for re-grading.
    pub wake: Arc<tokio::sync::Notify>,
    per_device: Limiter,
    sequencer: tlog::Sequencer,
    /// The newest checkpoint signed, kept outside the database.
    watermark: watermark::Watermark,
    /// The witnesses asked to cosign the log's checkpoints.
    witnesses: witnessing::Witnessing,
}

impl Server {
    pub fn new(
        store: Arc<dyn Store>,
        key: SigningKey,
        trust: Trust,
        wake: Arc<tokio::sync::Notify>,
        watermark: watermark::Watermark,
        witnesses: witnessing::Witnessing,
    ) -> Server {
        Server {
            store,
            key,
            trust,
            wake,
            per_device: Limiter::new(Rate {
                per_second: 20.0,
                burst: 40.0,
            }),
            sequencer: tlog::Sequencer::default(),
            watermark,
            witnesses,
        }
    }
}

/// The time now, as records and rows state it (RFC 3339, UTC).
pub fn now() -> String {
    sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc())
}

/// Runs blocking work (signature checks, pack verification, workbooks) off the async
/// threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Outcome<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Refusal::internal)
}
