//! Bearer tokens as an organizer manages them: listed by id (the first hex digits of their
//! hash, never the token), revoked by id. A revoked token stops working in every process
//! within a second (their caches look again).

use crate::model::TokenRow;
use crate::store::{Store, StoreError};

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("{0:?} is not a token id: give at least 8 of its hex digits, as `token list` shows")]
    BadId(String),
    #[error("no token has the id {0}")]
    Unknown(String),
    #[error("{id} names {count} tokens: give more of its digits")]
    Ambiguous { id: String, count: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl sqlexam_core::ErrorCode for TokenError {
    fn code(&self) -> &'static str {
        match self {
            TokenError::BadId(_) => "bad_token_id",
            TokenError::Unknown(_) => "unknown_token",
            TokenError::Ambiguous { .. } => "ambiguous_token_id",
            TokenError::Store(e) => e.code(),
        }
    }
}

/// Revokes the one token whose id starts with `id`; returns it as it now stands.
pub async fn revoke(store: &dyn Store, id: &str, now: &str) -> Result<TokenRow, TokenError> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TokenError::BadId(id));
    }
    let matching = store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| t.id.starts_with(&id) || id.starts_with(&t.id))
        .count();
    match matching {
        0 => Err(TokenError::Unknown(id)),
        1 => store
            .revoke_tokens(&id, now)
            .await?
            .pop()
            .ok_or(TokenError::Unknown(id)),
        count => Err(TokenError::Ambiguous { id, count }),
    }
}
