//! Every refusal the API gives: an HTTP status and an [`ApiError`] body (a stable code and a
//! sentence saying what is wrong and where). Storage failures become 503 (retry) or 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlexam_core::protocol::ApiError;

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

    pub fn at_line(mut self, line: usize) -> Self {
        self.body.line = Some(line);
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl From<crate::db::StoreError> for ApiFailure {
    fn from(e: crate::db::StoreError) -> Self {
        use sqlexam_core::ErrorCode;
        if e.retryable() {
            ApiFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                format!("the database is busy, try again: {}", e.message),
            )
            .retry_after(1)
        } else {
            ApiFailure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.code(),
                format!("the server could not store or read data: {}", e.message),
            )
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
