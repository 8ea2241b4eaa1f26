//! Records: `POST /v1/records` (a sync batch) and `GET /v1/sessions/{id}` (what the server
//! holds of a session, with a receipt).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use sqlexam_core::protocol::{BatchOutcome, NDJSON, SessionHeld};

use super::auth::Anyone;
use super::{ApiFailure, AppState, Body, Shared, query_u64};
use crate::domain::ingest::{MAX_BATCH_LINES, Source, parse_batch};

/// A record batch's largest body.
pub const MAX_BATCH_BYTES: usize = 16 << 20;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/v1/records",
            post(post_records).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .route("/v1/sessions/{id}", get(get_session))
}

async fn post_records(
    Anyone(caller): Anyone,
    State(state): Shared,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<BatchOutcome>, ApiFailure> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some(NDJSON) {
        return Err(ApiFailure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!("a record batch is {NDJSON} (one record line per line), not {content_type:?}"),
        ));
    }
    let lines = parse_batch(&body)?;
    if lines.len() > MAX_BATCH_LINES {
        return Err(ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "{} records in one batch; at most {MAX_BATCH_LINES}",
                lines.len()
            ),
        ));
    }
    if lines.is_empty() {
        return Err(ApiFailure::bad_request(
            "empty_batch",
            "the batch holds no records",
        ));
    }
    state.batches.fetch_add(1, Ordering::Relaxed);
    let source = Source {
        venue: &caller.label,
        limit_devices: true,
    };
    Ok(Json(state.server.ingest(lines, &source).await?))
}

async fn get_session(
    _: Anyone,
    State(state): Shared,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<SessionHeld>, ApiFailure> {
    let from = query_u64(&query, "from")?;
    Ok(Json(state.server.session_held(&session, from).await?))
}
