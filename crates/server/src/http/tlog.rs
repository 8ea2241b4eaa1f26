//! The record log: `GET /v1/server-key` (with the log's origin), `/v1/log/checkpoint` and
//! `/v1/log/consistency?from=&to=`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use sqlexam_core::protocol::{Consistency, LogHead};

use super::auth::Anyone;
use super::{ApiFailure, AppState, Shared, query_u64};

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/server-key", get(server_key))
        .route("/v1/log/checkpoint", get(log_checkpoint))
        .route("/v1/log/consistency", get(log_consistency))
        .route("/v1/log/witnesses", get(log_witnesses))
}

/// `GET /v1/log/witnesses`: each witness this server asks, and how it stands.
async fn log_witnesses(
    _: Anyone,
    State(state): Shared,
) -> Json<Vec<crate::domain::witnessing::WitnessView>> {
    Json(state.server.witness_views())
}

async fn server_key(State(state): Shared) -> Json<serde_json::Value> {
    let public = state.server.key.public();
    Json(serde_json::json!({
        "key_id": public.key_id(),
        "public_key": public.to_hex(),
        "pem": public.to_pem(),
        "log_origin": sqlexam_core::tlog::origin(&public),
    }))
}

async fn log_checkpoint(_: Anyone, State(state): Shared) -> Result<Json<LogHead>, ApiFailure> {
    Ok(Json(LogHead {
        checkpoint: state.server.checkpoint().await?,
        witnessed: state.server.witnessed_checkpoint().await?,
    }))
}

async fn log_consistency(
    _: Anyone,
    State(state): Shared,
    RawQuery(query): RawQuery,
) -> Result<Json<Consistency>, ApiFailure> {
    let (Some(from), Some(to)) = (query_u64(&query, "from")?, query_u64(&query, "to")?) else {
        return Err(ApiFailure::bad_request(
            "bad_query",
            "a consistency proof needs both from and to (tree sizes)",
        ));
    };
    Ok(Json(state.server.consistency(from, to).await?))
}
