//! The organizer's dashboard page (`dashboard/` at the repository root), served as it is:
//! three static files compiled in. The page holds no secret; it asks for the organizer token
//! and reads the API with it. A strict Content-Security-Policy lets it load only its own
//! script and style, and reach only this server.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{ApiFailure, AppState};

const INDEX: &str = include_str!("../../../../dashboard/index.html");
const SCRIPT: &str = include_str!("../../../../dashboard/dashboard.js");
const STYLE: &str = include_str!("../../../../dashboard/dashboard.css");
/// The one catalogue of words (crates/i18n), which the page reads as the app does.
const WORDS_EN: &str = include_str!("../../../../locales/en.json");
const WORDS_JA: &str = include_str!("../../../../locales/ja.json");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/dashboard", get(home))
        .route("/dashboard/", get(index))
        .route("/dashboard/{file}", get(file))
        .route("/dashboard/locales/{file}", get(words))
}

/// `/` and `/dashboard`: to the page.
async fn home() -> Redirect {
    Redirect::to("/dashboard/")
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

async fn words(Path(file): Path<String>) -> Result<Response, ApiFailure> {
    match file.as_str() {
        "en.json" => Ok(page("application/json; charset=utf-8", WORDS_EN)),
        "ja.json" => Ok(page("application/json; charset=utf-8", WORDS_JA)),
        _ => Err(ApiFailure::not_found(format!(
            "the dashboard has no words file {file:?}"
        ))),
    }
}

async fn file(Path(file): Path<String>) -> Result<Response, ApiFailure> {
    match file.as_str() {
        "dashboard.js" => Ok(page("text/javascript; charset=utf-8", SCRIPT)),
        "dashboard.css" => Ok(page("text/css; charset=utf-8", STYLE)),
        "" | "index.html" => Ok(page("text/html; charset=utf-8", INDEX)),
        _ => Err(ApiFailure::not_found(format!(
            "the dashboard has no file {file:?}"
        ))),
    }
}
