//! What organizers read (docs/api.md, "Results"): an exam's results as JSON, CSV, XLSX and
//! the CLICS scoreboard shapes, its flags and gaps, and the dashboard's view of it all.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sqlexam_export::Lang;
use sqlexam_export::results::Results;
use sqlexam_export::{clics, table};

use super::auth::Organizer;
use super::{ApiFailure, AppState, Body, Shared, query_param};
use crate::domain::results::{DashboardView, FlagsView};
use crate::model::SessionDecision;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/exams/{id}/results", get(results))
        .route("/v1/exams/{id}/results.csv", get(results_csv))
        .route("/v1/exams/{id}/results.xlsx", get(results_xlsx))
        .route("/v1/exams/{id}/scoreboard.json", get(scoreboard))
        .route("/v1/exams/{id}/results.tsv", get(results_tsv))
        .route("/v1/exams/{id}/dashboard", get(dashboard))
        .route("/v1/exams/{id}/flags", get(flags))
        .route(
            "/v1/exams/{id}/sessions/{session}/decision",
            post(decide_session),
        )
}

/// What an organizer sends to decide on a withheld session.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionRequest {
    count: bool,
    note: String,
}

/// `POST /v1/exams/{id}/sessions/{session}/decision`: count a withheld session after all,
/// or keep it out; kept with the deciding token's label, the newest in force.
async fn decide_session(
    Organizer(caller): Organizer,
    State(state): Shared,
    Path((exam, session)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Json<SessionDecision>, ApiFailure> {
    let request: DecisionRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiFailure::bad_request(
            "bad_decision",
            format!("the decision must be JSON {{\"count\": true|false, \"note\": \"why\"}}: {e}"),
        )
    })?;
    Ok(Json(
        state
            .server
            .decide_session(&exam, &session, request.count, &request.note, &caller.label)
            .await?,
    ))
}

/// The `lang` query parameter (`en`, the default, or `ja`).
fn query_lang(query: &Option<String>) -> Result<Lang, ApiFailure> {
    match query_param(query, "lang") {
        None => Ok(Lang::En),
        Some(v) => Lang::parse(v).ok_or_else(|| {
            ApiFailure::bad_request("bad_query", format!("lang must be en or ja, not {v:?}"))
        }),
    }
}

/// A download: its media type and file name.
fn attachment(content_type: &str, name: String, body: Vec<u8>) -> Response {
    let name = sqlexam_export::safe_file_name(&name);
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// What a table download needs: the language asked for, the results.
async fn for_table(
    state: &AppState,
    exam: &str,
    query: &Option<String>,
) -> Result<(Results, Lang), ApiFailure> {
    let lang = query_lang(query)?;
    Ok((state.server.results(exam).await?, lang))
}

async fn results(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Json<Results>, ApiFailure> {
    Ok(Json(state.server.results(&exam).await?))
}

async fn results_csv(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiFailure> {
    let (results, lang) = for_table(&state, &exam, &query).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("{exam}-results.csv"),
        table::results_csv(&results, lang).into_bytes(),
    ))
}

async fn results_xlsx(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiFailure> {
    let (results, lang) = for_table(&state, &exam, &query).await?;
    let bytes = crate::domain::blocking(move || table::results_xlsx(&results, lang))
        .await?
        .map_err(|e| {
            ApiFailure::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                sqlexam_core::error_chain(&e),
            )
        })?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{exam}-results.xlsx"),
        bytes,
    ))
}

/// `GET /v1/exams/{id}/scoreboard.json`: the CLICS Contest API scoreboard (score contest).
async fn scoreboard(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Json<clics::Scoreboard>, ApiFailure> {
    Ok(Json(clics::scoreboard(&state.server.results(&exam).await?)))
}

/// `GET /v1/exams/{id}/results.tsv`: the CCS `results.tsv`.
async fn results_tsv(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Response, ApiFailure> {
    let results = state.server.results(&exam).await?;
    Ok(attachment(
        "text/tab-separated-values; charset=utf-8",
        format!("{exam}-results.tsv"),
        clics::results_tsv(&results).into_bytes(),
    ))
}

async fn flags(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Json<FlagsView>, ApiFailure> {
    Ok(Json(state.server.flags(&exam).await?))
}

async fn dashboard(
    _: Organizer,
    State(state): Shared,
    Path(exam): Path<String>,
) -> Result<Json<DashboardView>, ApiFailure> {
    Ok(Json(state.server.dashboard(&exam).await?))
}
