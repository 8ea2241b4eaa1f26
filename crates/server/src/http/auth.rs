//! Authorization, in one place: every endpoint but health, the server key and the dashboard
//! page takes an [`Anyone`] or an [`Organizer`] as its first argument, and [`authorize`]
//! checks the bearer token (stored hashed, looked up once per process), its role and its
//! rate. They are extracted from the request's head, before its body: a request without a
//! valid token is refused before a byte of what it sends is read.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use sqlexam_core::crypto::sha256_hex;

use super::{ApiFailure, AppState};
use crate::model::Role;

/// A caller with a venue or organizer token: devices, relays, proctors.
pub struct Anyone(pub Caller);

/// A caller with an organizer token: exams, packs, results, metrics, decisions.
pub struct Organizer(pub Caller);

impl FromRequestParts<Arc<AppState>> for Anyone {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiFailure> {
        authorize(state, &parts.headers, ANY).await.map(Anyone)
    }
}

impl FromRequestParts<Arc<AppState>> for Organizer {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiFailure> {
        authorize(state, &parts.headers, ORGANIZER)
            .await
            .map(Organizer)
    }
}

/// Who called: the token's role and its label (a venue token's label names the venue).
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub label: String,
}

/// How long a token looked up is taken on trust before it is looked up again (revocation
/// takes effect within it).
const TOKEN_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// Venue and organizer tokens: what devices, relays and proctors use.
const ANY: &[Role] = &[Role::Venue, Role::Organizer];
/// Organizer tokens only: exams, packs, results.
const ORGANIZER: &[Role] = &[Role::Organizer];

/// Checks the bearer token and its role, and the token's rate.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<Caller, ApiFailure> {
    let unauthorized =
        |message: &str| ApiFailure::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("this needs a token: Authorization: Bearer <token>"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header is not \"Bearer <token>\""))?;
    let hash = sha256_hex(token.as_bytes());
    let cached = state
        .known_tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&hash)
        .filter(|(_, seen)| seen.elapsed() < TOKEN_CACHE)
        .map(|(caller, _)| caller.clone());
    let caller = match cached {
        Some(caller) => caller,
        None => {
            let (role, label) = state
                .server
                .store
                .token(&hash)
                .await?
                .ok_or_else(|| unauthorized("the token is not known to this server"))?;
            let caller = Caller { role, label };
            let mut known = state.known_tokens.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() >= 10_000 {
                known.retain(|_, (_, seen)| seen.elapsed() < TOKEN_CACHE);
            }
            if known.len() < 10_000 {
                known.insert(hash.clone(), (caller.clone(), std::time::Instant::now()));
            }
            caller
        }
    };
    if !allowed.contains(&caller.role) {
        return Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a {} token cannot do this", caller.role.as_str()),
        ));
    }
    state.per_token.take(&hash).map_err(|wait| {
        ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests with this token",
        )
        .retry_after(wait)
    })?;
    Ok(caller)
}
