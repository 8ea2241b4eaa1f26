//! What organizers read (docs/api.md, "Results"): an exam's results in sqlexam-export's
//! one model, as JSON, CSV, XLSX and the CLICS scoreboard shapes, its flags and gaps, and
//! the dashboard's view of it all.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlexam_export::Lang;
use sqlexam_export::results::{Results, ResultsBuilder};
use sqlexam_export::{clics, table};

use crate::api::{AppState, Shared, authorize, internal, now};
use crate::db::{Flag, Role, SessionRow};
use crate::error::ApiFailure;

/// An exam's results in the one model every export reads: the server's re-grade is the
/// score once it has one.
async fn exam_results(
    state: &AppState,
    exam: &str,
    sessions: &[SessionRow],
) -> Result<Results, ApiFailure> {
    use sqlexam_export::results::{Attempt, Regrade, Sitting};
    let pack = state.store.exam_pack(exam).await?;
    let exam_ref = sqlexam_core::record::PackRef {
        id: exam.to_owned(),
        version: pack.as_ref().map(|p| p.version.clone()).unwrap_or_default(),
        hash: pack.map(|p| p.hash).unwrap_or_default(),
    };
    let mut b = ResultsBuilder::new(exam_ref, "server");
    // Every session: a candidate who submitted nothing is in the results too.
    for s in sessions {
        b.sitting(Sitting {
            session: s.session.clone(),
            candidate: s.candidate.clone(),
            name: s.candidate_name.clone(),
            device: s.device.clone(),
            venue: s.venue.clone(),
        });
    }
    for r in state.store.submissions(exam).await? {
        b.attempt(Attempt {
            session: r.session,
            problem: r.problem,
            submitted_ms: r.submitted_ms,
            device_verdict: r.device_verdict,
            device_score: r.device_score,
            max_score: r.max_score,
            regrade: match (r.server_verdict, r.server_score, r.server_error) {
                (Some(verdict), Some(score), _) => Regrade::Graded { verdict, score },
                (_, _, Some(_)) => Regrade::Ungradable,
                _ => Regrade::Awaiting,
            },
        });
    }
    Ok(b.finish(&now()))
}

pub(crate) async fn results(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Json<Results>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    Ok(Json(results_of(&state, &exam).await?))
}

/// The `lang` query parameter (`en`, the default, or `ja`).
fn query_lang(query: &Option<String>) -> Result<Lang, ApiFailure> {
    let value = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned)
    });
    match value {
        None => Ok(Lang::En),
        Some(v) => Lang::parse(&v).ok_or_else(|| {
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

/// What a table download needs: an organizer, the language asked for, the results.
async fn for_table(
    state: &AppState,
    headers: &HeaderMap,
    exam: &str,
    query: &Option<String>,
) -> Result<(Results, Lang), ApiFailure> {
    authorize(state, headers, &[Role::Organizer]).await?;
    let lang = query_lang(query)?;
    Ok((results_of(state, exam).await?, lang))
}

pub(crate) async fn results_csv(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiFailure> {
    let (results, lang) = for_table(&state, &headers, &exam, &query).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("{exam}-results.csv"),
        table::results_csv(&results, lang).into_bytes(),
    ))
}

pub(crate) async fn results_xlsx(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiFailure> {
    let (results, lang) = for_table(&state, &headers, &exam, &query).await?;
    let bytes = tokio::task::spawn_blocking(move || table::results_xlsx(&results, lang))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{exam}-results.xlsx"),
        bytes,
    ))
}

pub(crate) async fn flags(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    let flags = state.store.flags(&exam).await?;
    // Gaps are not flags but the present state: records held back until the missing ones
    // arrive.
    let gaps = gaps_json(state.store.gaps(&exam).await?);
    Ok(Json(
        serde_json::json!({ "exam": exam, "flags": flags, "gaps": gaps }),
    ))
}

/// The results of `exam`, over all its sessions.
async fn results_of(state: &AppState, exam: &str) -> Result<Results, ApiFailure> {
    let sessions = state.store.sessions(exam).await?;
    exam_results(state, exam, &sessions).await
}

/// `GET /v1/exams/{id}/scoreboard.json`: the CLICS Contest API scoreboard (score contest).
pub(crate) async fn scoreboard(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Json<clics::Scoreboard>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    Ok(Json(clics::scoreboard(&results_of(&state, &exam).await?)))
}

/// `GET /v1/exams/{id}/results.tsv`: the CCS `results.tsv`.
pub(crate) async fn results_tsv(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Response, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    let results = results_of(&state, &exam).await?;
    Ok(attachment(
        "text/tab-separated-values; charset=utf-8",
        format!("{exam}-results.tsv"),
        clics::results_tsv(&results).into_bytes(),
    ))
}

/// One venue at a glance: its sessions and how fresh its newest record is.
#[derive(Debug, Serialize)]
pub struct VenueView {
    pub venue: String,
    pub sessions: usize,
    pub candidates: usize,
    /// When a record from it last arrived.
    pub last_record_at: Option<String>,
    /// Its sessions holding records back until missing ones arrive.
    pub sessions_with_gaps: usize,
}

/// `GET /v1/exams/{id}/dashboard`: everything the organizer's page shows, in one answer.
#[derive(Debug, Serialize)]
pub struct DashboardView {
    pub results: Results,
    pub venues: Vec<VenueView>,
    pub sessions: Vec<SessionRow>,
    pub flags: Vec<Flag>,
    pub gaps: Vec<serde_json::Value>,
}

pub(crate) async fn dashboard(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Json<DashboardView>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    let sessions = state.store.sessions(&exam).await?;
    let results = exam_results(&state, &exam, &sessions).await?;
    let flags = state.store.flags(&exam).await?;
    let gaps = state.store.gaps(&exam).await?;
    let mut venues: std::collections::BTreeMap<
        &str,
        (VenueView, std::collections::BTreeSet<&str>),
    > = std::collections::BTreeMap::new();
    for s in &sessions {
        let (v, candidates) = venues.entry(s.venue.as_str()).or_insert_with(|| {
            (
                VenueView {
                    venue: s.venue.clone(),
                    sessions: 0,
                    candidates: 0,
                    last_record_at: None,
                    sessions_with_gaps: 0,
                },
                std::collections::BTreeSet::new(),
            )
        });
        v.sessions += 1;
        candidates.insert(s.candidate.as_str());
        if v.last_record_at
            .as_deref()
            .is_none_or(|t| s.last_record_at.as_str() > t)
        {
            v.last_record_at = Some(s.last_record_at.clone());
        }
        if gaps.iter().any(|(g, _, _)| *g == s.session) {
            v.sessions_with_gaps += 1;
        }
    }
    let venues = venues
        .into_values()
        .map(|(mut v, candidates)| {
            v.candidates = candidates.len();
            v
        })
        .collect();
    Ok(Json(DashboardView {
        results,
        venues,
        sessions,
        flags,
        gaps: gaps_json(gaps),
    }))
}

/// Open gaps as the API shows them: `{"session", "from", "to"}`.
fn gaps_json(gaps: Vec<(String, u64, u64)>) -> Vec<serde_json::Value> {
    gaps.into_iter()
        .map(|(session, from, to)| serde_json::json!({"session": session, "from": from, "to": to}))
        .collect()
}
