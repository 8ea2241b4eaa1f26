//! `POST /v1/bundles`: a proctor's bundle, taken as a sync by hand
//! ([`crate::domain::bundles`]).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use sqlexam_core::protocol::BundleImport;

use super::auth::Anyone;
use super::{ApiFailure, AppState, Body, Shared};

/// A bundle upload's largest body.
const MAX_BUNDLE_BYTES: usize = sqlexam_export::bundle::MAX_BYTES;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/v1/bundles",
        post(post_bundle).layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES)),
    )
}

async fn post_bundle(
    Anyone(caller): Anyone,
    State(state): Shared,
    Body(body): Body,
) -> Result<Json<BundleImport>, ApiFailure> {
    Ok(Json(state.server.import_bundle(body, &caller.label).await?))
}
