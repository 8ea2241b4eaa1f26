//! The HTTP API under `/v1` (docs/api.md): JSON in and out, record batches as NDJSON, bearer
//! tokens, every refusal a 4xx/5xx with an [`sqlexam_core::protocol::ApiError`] body. Routes
//! are split by resource; each handler authorizes ([`auth`]), reads its request, and calls
//! the domain — no SQL and no rules here.

mod auth;
mod bundles;
mod dashboard;
mod failure;
pub mod listen;
mod ops;
mod packs;
mod records;
mod results;
mod tlog;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

pub use failure::ApiFailure;
pub use packs::START_CODE_HEADER;
pub use records::MAX_BATCH_BYTES;

use crate::Uplink;
use crate::domain::Server;
use crate::domain::limits::{Limiter, Rate};
use auth::Caller;

pub struct AppState {
    server: Arc<Server>,
    per_token: Limiter,
    started: std::time::Instant,
    batches: AtomicU64,
    /// Tokens looked up in the last second (by hash), so a burst of requests costs one
    /// query per token; a revoked token stops working within that second in every process.
    known_tokens: Mutex<HashMap<String, (Caller, std::time::Instant)>>,
    /// What this server forwards to, when it is a venue relay.
    uplink: Option<Arc<dyn Uplink>>,
}

impl AppState {
    pub fn new(server: Arc<Server>, uplink: Option<Arc<dyn Uplink>>) -> Arc<AppState> {
        Arc::new(AppState {
            server,
            // A venue token carries a whole room reconnecting at once.
            per_token: Limiter::new(Rate {
                per_second: 2_000.0,
                burst: 5_000.0,
            }),
            started: std::time::Instant::now(),
            batches: AtomicU64::new(0),
            known_tokens: Mutex::new(HashMap::new()),
            uplink,
        })
    }
}

type Shared = State<Arc<AppState>>;

/// A request body whose refusals (too large, cut off) are [`ApiFailure`]s with a JSON body
/// like every other refusal, not the framework's plain text.
struct Body(Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = ApiFailure;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|rejection| {
                let status = rejection.status();
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "too_large"
                } else {
                    "unreadable_body"
                };
                ApiFailure::new(
                    status,
                    code,
                    format!(
                        "the request body cannot be taken: {}",
                        rejection.body_text()
                    ),
                )
            })
    }
}

/// A query parameter's value, if present.
fn query_param<'a>(query: &'a Option<String>, name: &str) -> Option<&'a str> {
    query.as_deref()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// A query parameter that must be a whole number, if present.
fn query_u64(query: &Option<String>, name: &str) -> Result<Option<u64>, ApiFailure> {
    query_param(query, name)
        .map(|value| {
            value.parse().map_err(|_| {
                ApiFailure::bad_request(
                    "bad_query",
                    format!("query parameter {name} must be a whole number, not {value:?}"),
                )
            })
        })
        .transpose()
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(ops::routes())
        .merge(records::routes())
        .merge(bundles::routes())
        .merge(tlog::routes())
        .merge(packs::routes())
        .merge(results::routes())
        .merge(dashboard::routes())
        .fallback(|| async { ApiFailure::not_found("no such endpoint (see docs/api.md)") })
        .method_not_allowed_fallback(|| async {
            ApiFailure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method (see docs/api.md)",
            )
        })
        .with_state(state)
}
