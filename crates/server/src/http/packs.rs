//! Exams and their packs: `GET /v1/exams`, `PUT` and `GET /v1/exams/{id}/pack`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};

use super::auth::{Anyone, Organizer};
use super::{ApiFailure, AppState, Body, Shared};
use crate::domain::packs::PackTaken;
use crate::model::ExamRow;

/// A pack upload's largest body (a pack's own cap is 1 GiB of entries).
const MAX_PACK_BYTES: usize = (1 << 30) + (4 << 20);

/// The header that carries a sealed pack's start code on upload (never a query string:
/// those end up in logs).
pub const START_CODE_HEADER: &str = "x-sqlexam-start-code";

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/exams", get(list_exams)).route(
        "/v1/exams/{id}/pack",
        put(put_pack)
            .get(get_pack)
            .layer(DefaultBodyLimit::max(MAX_PACK_BYTES)),
    )
}

async fn list_exams(_: Organizer, State(state): Shared) -> Result<Json<Vec<ExamRow>>, ApiFailure> {
    Ok(Json(state.server.exams().await?))
}

async fn put_pack(
    _: Organizer,
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
    Body(body): Body,
) -> Result<Json<PackTaken>, ApiFailure> {
    let start_code = headers
        .get(START_CODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let hint = format!("the {START_CODE_HEADER} header");
    let taken = state
        .server
        .put_pack(&exam, body.to_vec(), start_code, &hint)
        .await?;
    Ok(Json(taken))
}

async fn get_pack(
    _: Anyone,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Response, ApiFailure> {
    let (pack, bytes) = state.server.pack_file(&exam).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-{}.sqlexam\"",
                    pack.exam, pack.version
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
