//! Operating the server: `/v1/health`, `/metrics` and, on a venue relay, `/v1/relay`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::auth::{Anyone, Organizer};
use super::{ApiFailure, AppState, Shared};

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/relay", get(relay_status))
        .route("/v1/upstream/sessions/{id}", get(upstream))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// The exam's counts are the organizer's: a venue token sits on every candidate machine.
async fn metrics(_: Organizer, State(state): Shared) -> Result<Response, ApiFailure> {
    let c = state.server.store.counts().await?;
    let text = format!(
        "# TYPE sqlexam_records_stored gauge\nsqlexam_records_stored {}\n\
         # TYPE sqlexam_sessions gauge\nsqlexam_sessions {}\n\
         # TYPE sqlexam_regrade_jobs_pending gauge\nsqlexam_regrade_jobs_pending {}\n\
         # TYPE sqlexam_regrade_jobs_done gauge\nsqlexam_regrade_jobs_done {}\n\
         # TYPE sqlexam_flags gauge\nsqlexam_flags {}\n\
         # TYPE sqlexam_batches_total counter\nsqlexam_batches_total {}\n\
         # TYPE sqlexam_uptime_seconds gauge\nsqlexam_uptime_seconds {}\n",
        c.records,
        c.sessions,
        c.jobs_queued,
        c.jobs_done,
        c.flags,
        state.batches.load(std::sync::atomic::Ordering::Relaxed),
        state.started.elapsed().as_secs()
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// `GET /v1/relay`: how far the relay has forwarded the room's records.
async fn relay_status(
    _: Anyone,
    State(state): Shared,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    match state.uplink.clone() {
        // Counting the backlog reads the relay's database.
        Some(uplink) => crate::domain::blocking(move || Json(uplink.status()))
            .await
            .map_err(ApiFailure::from),
        None => Err(ApiFailure::not_found(
            "this server is not a relay (sqlexam serve --relay-to URL)",
        )),
    }
}

/// `GET /v1/upstream/sessions/{id}`: on a relay, what the central server proved of a
/// session the relay forwarded, for the machine that sat it to keep.
async fn upstream(
    _: Anyone,
    State(state): Shared,
    axum::extract::Path(session): axum::extract::Path<String>,
) -> Result<Json<sqlexam_core::protocol::Upstream>, ApiFailure> {
    let Some(uplink) = state.uplink.clone() else {
        return Err(ApiFailure::not_found(
            "this server is not a relay (sqlexam serve --relay-to URL)",
        ));
    };
    let held = crate::domain::blocking(move || uplink.upstream(&session)).await?;
    match held.map_err(crate::domain::Refusal::from)? {
        Some(up) => Ok(Json(up)),
        None => Err(ApiFailure::not_found(
            "this relay has not reached its central server yet",
        )),
    }
}
