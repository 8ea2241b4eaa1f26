//! The organizer's dashboard page (`dashboard/` at the repository root, built into
//! `dashboard/dist/`): three static files compiled in. The page holds no secret; it asks for the organizer token
//! and reads the API with it. A strict Content-Security-Policy lets it load only its own
//! script and style, and reach only this server.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{ApiFailure, AppState};

// Built by the UI's toolchain (`npm run build` in ui/, which scripts/deps.sh runs; build.rs
// says so when it is missing): TypeScript with the app's DOM builder and words.
const INDEX: &str = include_str!("../../../../dashboard/dist/index.html");
const SCRIPT: &str = include_str!("../../../../dashboard/dist/dashboard.js");
const STYLE: &str = include_str!("../../../../dashboard/dist/dashboard.css");

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
}

/// `/` and `/dashboard`: to the page.
async fn home() -> Redirect {
    Redirect::to("/dashboard/")
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
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
