//! Every refusal the API gives: an HTTP status and an [`ApiError`] body (a stable code and a
//! sentence saying what is wrong and where). The domain's [`Refusal`]s get their statuses
//! here; storage failures become 503 (retry) or 500, with the cause in the sentence.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlexam_core::ErrorCode;
use sqlexam_core::error_chain;
use sqlexam_core::protocol::ApiError;

use crate::domain::Refusal;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub body: ApiError,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            status,
            body: ApiError {
                code: code.into(),
                message: message.into(),
                line: None,
            },
            retry_after: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    fn at_line(mut self, line: Option<usize>) -> Self {
        self.body.line = line;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> Self {
        if e.retryable() {
            ApiFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                format!("the database is busy, try again: {}", error_chain(&e)),
            )
            .retry_after(1)
        } else {
            ApiFailure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.code(),
                format!(
                    "the server could not store or read data: {}",
                    error_chain(&e)
                ),
            )
        }
    }
}

impl From<Refusal> for ApiFailure {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid {
                code,
                message,
                line,
            } => ApiFailure::bad_request(code, message).at_line(line),
            Refusal::Unacceptable {
                code,
                message,
                line,
            } => ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).at_line(line),
            Refusal::Conflict { code, message } => {
                ApiFailure::new(StatusCode::CONFLICT, code, message)
            }
            Refusal::NotFound(what) => ApiFailure::not_found(what),
            Refusal::RateLimited {
                message,
                retry_after,
            } => ApiFailure::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
                .retry_after(retry_after),
            Refusal::Store(e) => e.into(),
            other => ApiFailure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                error_chain(&other),
            ),
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
