//! The server's HTTP API as the sync client uses it (docs/api.md): one `reqwest` client,
//! every failure sorted into what the caller does next (wait for the network, back off,
//! wait as told, or stop and tell a person).

use std::time::Duration;

use serde::de::DeserializeOwned;
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::{
    ApiError, BUNDLE, BatchOutcome, BundleImport, Consistency, NDJSON, SessionHeld,
};

use crate::SyncError;

/// Where to sync, and the venue token it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The server's base URL (`https://exam.example.org`), no trailing slash.
    pub url: String,
    pub token: Option<String>,
}

impl Server {
    /// A server from what a person typed: trimmed, `http(s)://` required, trailing `/` dropped.
    pub fn parse(url: &str, token: Option<&str>) -> Result<Server, SyncError> {
        let url = url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| SyncError::Config(format!("{url:?} is not a server address: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(SyncError::Config(format!(
                "{url:?} is not a server address: it must start with https:// (or http:// on a venue network)"
            )));
        }
        Ok(Server {
            url: url.to_owned(),
            token: token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }
}

/// An HTTP client for one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Server,
    batch: usize,
}

/// Records per batch by default: well inside the server's 10,000 lines and 16 MiB.
pub const BATCH_RECORDS: usize = 500;

/// Installs ring as rustls's provider once per process (reqwest is built without one, and
/// a process must do this before it makes any reqwest client).
pub fn tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already: either will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Client {
    pub fn new(server: Server) -> Result<Client, SyncError> {
        tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            // A fresh connection per request: on a venue's network an idle connection is
            // often dead by the time it is reused (a NAT or proxy dropped it), and a request
            // sent on it fails after it was written — a retry, where a new connection would
            // simply have worked. Requests are few and large (batches), so this costs little.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("sqlexam-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Config(format!("cannot make an HTTP client: {e}")))?;
        Ok(Client {
            http,
            server,
            batch: BATCH_RECORDS,
        })
    }

    /// The same client, sending at most `records` records a batch.
    pub fn with_batch_size(mut self, records: usize) -> Client {
        self.batch = records.max(1);
        self
    }

    pub fn batch_size(&self) -> usize {
        self.batch
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.server.url));
        match &self.server.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
        let response = request.send().await.map_err(|e| self.offline(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // Seconds only (what sqlexam's server sends), and never more than MAX_RETRY_AFTER.
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let body = read_capped(response, MAX_ERROR_BYTES)
            .await
            .unwrap_or_default();
        let error: Option<ApiError> = serde_json::from_slice(&body).ok();
        let message = error.map_or_else(
            || format!("{} answered {status}", self.server.url),
            |e| format!("{} ({})", e.message, e.code),
        );
        Err(if status == reqwest::StatusCode::NOT_FOUND {
            SyncError::NotFound(message)
        } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            SyncError::RateLimited {
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
            }
        } else if status.is_server_error() {
            SyncError::Server {
                message,
                retry_after,
            }
        } else {
            SyncError::Refused(format!("the server refused: {message}"))
        })
    }

    fn offline(&self, e: reqwest::Error) -> SyncError {
        SyncError::Offline {
            server: self.server.url.clone(),
            cause: std::sync::Arc::new(e),
        }
    }

    async fn json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, SyncError> {
        let bytes = self.body(response, MAX_ANSWER_BYTES).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            SyncError::Refused(format!(
                "{} answered something that is not sqlexam's API: {e}",
                self.server.url
            ))
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        self.json(response).await
    }

    /// `GET /v1/health`, with a short timeout: whether the server can be reached at all.
    pub async fn reachable(&self) -> bool {
        self.request(reqwest::Method::GET, "/v1/health")
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// The server's public key (`GET /v1/server-key`).
    pub async fn server_key(&self) -> Result<PublicKey, SyncError> {
        #[derive(serde::Deserialize)]
        struct Key {
            public_key: String,
        }
        let key: Key = self.get("/v1/server-key").await?;
        PublicKey::from_hex(&key.public_key).ok_or_else(|| {
            SyncError::Refused(format!(
                "{} gave a server key that is not an Ed25519 key",
                self.server.url
            ))
        })
    }

    /// `POST /v1/records` with `lines` (export lines, one record each).
    pub async fn post_batch(&self, lines: &[String]) -> Result<BatchOutcome, SyncError> {
        let mut body = lines.join("\n");
        body.push('\n');
        let response = self
            .send(
                self.request(reqwest::Method::POST, "/v1/records")
                    .header(reqwest::header::CONTENT_TYPE, NDJSON)
                    .body(body),
            )
            .await?;
        self.json(response).await
    }

    /// `POST /v1/bundles`: a proctor's results bundle, imported as a sync by hand.
    pub async fn post_bundle(&self, bundle: Vec<u8>) -> Result<BundleImport, SyncError> {
        let response = self
            .send(
                self.request(reqwest::Method::POST, "/v1/bundles")
                    // A venue's bundle can be large, and is verified whole before the answer.
                    .timeout(Duration::from_secs(600))
                    .header(reqwest::header::CONTENT_TYPE, BUNDLE)
                    .body(bundle),
            )
            .await?;
        self.json(response).await
    }

    /// `GET /v1/sessions/{id}?from=` : what the server holds of a session, with proofs of its
    /// records from `from`.
    pub async fn session(&self, session: &str, from: u64) -> Result<SessionHeld, SyncError> {
        self.get(&format!("/v1/sessions/{}?from={from}", encode(session)))
            .await
    }

    /// `GET /v1/upstream/sessions/{id}`: on a venue relay, what its central server proved
    /// of `session`; `None` from a server that is no relay (or has not reached its central
    /// server yet).
    pub async fn upstream(
        &self,
        session: &str,
    ) -> Result<Option<sqlexam_core::protocol::Upstream>, SyncError> {
        match self
            .get(&format!("/v1/upstream/sessions/{}", encode(session)))
            .await
        {
            Ok(up) => Ok(Some(up)),
            Err(SyncError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/log/checkpoint`: the log's signed checkpoint now.
    pub async fn checkpoint(&self) -> Result<sqlexam_core::protocol::LogHead, SyncError> {
        self.get("/v1/log/checkpoint").await
    }

    /// `GET /v1/log/consistency?from=&to=`.
    pub async fn consistency(&self, from: u64, to: u64) -> Result<Consistency, SyncError> {
        self.get(&format!("/v1/log/consistency?from={from}&to={to}"))
            .await
    }

    /// `GET /v1/exams/{id}/pack`: the exam's pack bytes (to be verified by the caller).
    pub async fn pack(&self, exam: &str) -> Result<Vec<u8>, SyncError> {
        let response = self
            .send(self.request(
                reqwest::Method::GET,
                &format!("/v1/exams/{}/pack", encode(exam)),
            ))
            .await?;
        self.body(response, MAX_PACK_BYTES).await
    }

    /// The body, refused past `limit` bytes: a server cannot make the exam app run out of
    /// memory.
    async fn body(&self, response: reqwest::Response, limit: usize) -> Result<Vec<u8>, SyncError> {
        match read_capped(response, limit).await {
            Ok(bytes) => Ok(bytes),
            Err(Some(e)) => Err(self.offline(e)),
            Err(None) => Err(SyncError::Refused(format!(
                "{} answered more than {} MiB",
                self.server.url,
                limit >> 20
            ))),
        }
    }
}

/// The longest wait a server may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The largest answer to a batch or a session query (10,000 proofs fit in a few MiB).
const MAX_ANSWER_BYTES: usize = 64 << 20;
const MAX_ERROR_BYTES: usize = 64 << 10;
/// A pack's own limit (1 GiB of entries) and its manifest.
const MAX_PACK_BYTES: usize = (1 << 30) + (4 << 20);

/// Reads a body chunk by chunk, stopping past `limit` (`Err(None)`).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Option<reqwest::Error>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Some)? {
        if out.len() + chunk.len() > limit {
            return Err(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A path segment, percent-encoded (session and exam ids are ours, but never trust that).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_checked_and_tidied() {
        let s = Server::parse(" https://exam.example.org/ ", Some(" sqx_1 ")).unwrap();
        assert_eq!(s.url, "https://exam.example.org");
        assert_eq!(s.token.as_deref(), Some("sqx_1"));
        assert_eq!(
            Server::parse("http://10.0.0.5:8617", Some(""))
                .unwrap()
                .token,
            None
        );
        for bad in ["exam.example.org", "ftp://x", "https://", ""] {
            assert!(
                matches!(Server::parse(bad, None), Err(SyncError::Config(_))),
                "{bad}"
            );
        }
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
