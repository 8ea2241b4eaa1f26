//! The HTTP API under `/v1` (docs/api.md): JSON in and out, record batches as NDJSON, bearer
//! tokens (stored hashed, never logged), every refusal a 4xx/5xx with an [`ApiError`] body.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use sqlexam_core::ErrorCode;
use sqlexam_core::crypto::{SigningKey, sha256_hex};
use sqlexam_core::encoding::format_time;
use sqlexam_core::pack::{PackError, Trust};
use sqlexam_core::protocol::{
    BatchOutcome, BundleImport, Consistency, LogHead, NDJSON, Rejected, SessionHeld, SessionOutcome,
};

use crate::db::{Checks, Role, Store, StoredPack};
use crate::error::ApiFailure;
use crate::ingest::{Incoming, Line, SessionFacts, parse_batch};
use crate::limits::{Limiter, Rate};
use crate::log::{ConsistencyError, Covered};
use crate::results;

/// A record batch's largest body and line count.
pub const MAX_BATCH_BYTES: usize = 16 << 20;
pub const MAX_BATCH_LINES: usize = 10_000;
/// A bundle upload's largest body.
pub const MAX_BUNDLE_BYTES: usize = sqlexam_export::bundle::MAX_BYTES;
/// A pack upload's largest body (a pack's own cap is 1 GiB of entries).
pub const MAX_PACK_BYTES: usize = (1 << 30) + (4 << 20);

pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    key: SigningKey,
    trust: Trust,
    wake: Arc<tokio::sync::Notify>,
    per_token: Limiter,
    per_device: Limiter,
    started: std::time::Instant,
    batches: std::sync::atomic::AtomicU64,
    /// Tokens already looked up (by hash): tokens are never changed once made, so a known
    /// token need not cost a query per request.
    known_tokens: std::sync::Mutex<std::collections::HashMap<String, Caller>>,
    sequencer: crate::log::Sequencer,
    /// The relay's status, when this server forwards to a central one.
    relay: Option<crate::relay::Relay>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        key: SigningKey,
        trust: Trust,
        wake: Arc<tokio::sync::Notify>,
        relay: Option<crate::relay::Relay>,
    ) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            key,
            trust,
            wake,
            // A venue token carries a whole room reconnecting at once.
            per_token: Limiter::new(Rate {
                per_second: 2_000.0,
                burst: 5_000.0,
            }),
            per_device: Limiter::new(Rate {
                per_second: 20.0,
                burst: 40.0,
            }),
            started: std::time::Instant::now(),
            batches: std::sync::atomic::AtomicU64::new(0),
            known_tokens: std::sync::Mutex::new(std::collections::HashMap::new()),
            sequencer: crate::log::Sequencer::default(),
            relay,
        })
    }
}

pub(crate) type Shared = State<Arc<AppState>>;

/// A request body whose refusals (too large, cut off) are [`ApiFailure`]s with a JSON body
/// like every other refusal, not the framework's plain text.
pub struct Body(pub Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = ApiFailure;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|rejection| {
                let status = rejection.status();
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "too_large"
                } else {
                    "unreadable_body"
                };
                ApiFailure::new(
                    status,
                    code,
                    format!(
                        "the request body cannot be taken: {}",
                        rejection.body_text()
                    ),
                )
            })
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/server-key", get(server_key))
        .route(
            "/v1/records",
            post(post_records).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .route(
            "/v1/bundles",
            post(post_bundle).layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES)),
        )
        .route("/v1/relay", get(relay_status))
        .route("/v1/sessions/{id}", get(get_session))
        .route("/v1/log/checkpoint", get(log_checkpoint))
        .route("/v1/log/consistency", get(log_consistency))
        .route("/v1/exams", get(list_exams))
        .route(
            "/v1/exams/{id}/pack",
            put(put_pack)
                .get(get_pack)
                .layer(DefaultBodyLimit::max(MAX_PACK_BYTES)),
        )
        .route("/v1/exams/{id}/results", get(results::results))
        .route("/v1/exams/{id}/results.csv", get(results::results_csv))
        .route("/v1/exams/{id}/results.xlsx", get(results::results_xlsx))
        .route("/v1/exams/{id}/scoreboard.json", get(results::scoreboard))
        .route("/v1/exams/{id}/results.tsv", get(results::results_tsv))
        .route("/v1/exams/{id}/dashboard", get(results::dashboard))
        .route("/v1/exams/{id}/flags", get(results::flags))
        .route("/", get(crate::dashboard::home))
        .route("/dashboard", get(crate::dashboard::home))
        .route("/dashboard/", get(crate::dashboard::index))
        .route("/dashboard/{file}", get(crate::dashboard::file))
        .fallback(|| async { ApiFailure::not_found("no such endpoint (see docs/api.md)") })
        .method_not_allowed_fallback(|| async {
            ApiFailure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method (see docs/api.md)",
            )
        })
        .with_state(state)
}

pub(crate) fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// Who called: the token's role and its label (a venue token's label names the venue).
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub label: String,
}

/// Checks the bearer token and its role, and the token's rate.
pub(crate) async fn authorize(
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
        .cloned();
    let caller = match cached {
        Some(caller) => caller,
        None => {
            let (role, label) = state
                .store
                .token(&hash)
                .await?
                .ok_or_else(|| unauthorized("the token is not known to this server"))?;
            let caller = Caller { role, label };
            let mut known = state.known_tokens.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() < 10_000 {
                known.insert(hash.clone(), caller.clone());
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

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

async fn metrics(State(state): Shared) -> Result<Response, ApiFailure> {
    let c = state.store.counts().await?;
    let text = format!(
        "# TYPE sqlexam_records_stored gauge\nsqlexam_records_stored {}\n\
         # TYPE sqlexam_sessions gauge\nsqlexam_sessions {}\n\
         # TYPE sqlexam_regrade_jobs_pending gauge\nsqlexam_regrade_jobs_pending {}\n\
         # TYPE sqlexam_regrade_jobs_done gauge\nsqlexam_regrade_jobs_done {}\n\
         # TYPE sqlexam_flags gauge\nsqlexam_flags {}\n\
         # TYPE sqlexam_batches_total counter\nsqlexam_batches_total {}\n\
         # TYPE sqlexam_uptime_seconds gauge\nsqlexam_uptime_seconds {}\n",
        c.records,
        c.sessions,
        c.jobs_queued,
        c.jobs_done,
        c.flags,
        state.batches.load(std::sync::atomic::Ordering::Relaxed),
        state.started.elapsed().as_secs()
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// `GET /v1/relay`: how far the relay has forwarded the room's records.
async fn relay_status(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<sqlexam_sync::SyncStatus>, ApiFailure> {
    authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    match state.relay.clone() {
        Some(relay) => tokio::task::spawn_blocking(move || Json(relay.status()))
            .await
            .map_err(internal),
        None => Err(ApiFailure::not_found(
            "this server is not a relay (sqlexam serve --relay-to URL)",
        )),
    }
}

async fn server_key(State(state): Shared) -> Json<serde_json::Value> {
    let public = state.key.public();
    Json(serde_json::json!({
        "key_id": public.key_id(),
        "public_key": public.to_hex(),
        "pem": public.to_pem(),
        "log_origin": sqlexam_core::log::origin(&public),
    }))
}

/// A query parameter that must be a whole number, if present.
fn query_u64(query: &Option<String>, name: &str) -> Result<Option<u64>, ApiFailure> {
    let Some(query) = query else {
        return Ok(None);
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            return value.parse().map(Some).map_err(|_| {
                ApiFailure::bad_request(
                    "bad_query",
                    format!("query parameter {name} must be a whole number, not {value:?}"),
                )
            });
        }
    }
    Ok(None)
}

async fn log_checkpoint(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<LogHead>, ApiFailure> {
    authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    Ok(Json(LogHead {
        checkpoint: crate::log::checkpoint(&*state.store, &state.key).await?,
    }))
}

async fn log_consistency(
    State(state): Shared,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Consistency>, ApiFailure> {
    authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    let (Some(from), Some(to)) = (query_u64(&query, "from")?, query_u64(&query, "to")?) else {
        return Err(ApiFailure::bad_request(
            "bad_query",
            "a consistency proof needs both from and to (tree sizes)",
        ));
    };
    match crate::log::consistency(&*state.store, from, to).await {
        Ok(proof) => Ok(Json(proof)),
        Err(ConsistencyError::Range(message)) => Err(ApiFailure::bad_request("bad_range", message)),
        Err(ConsistencyError::Store(e)) => Err(e.into()),
    }
}

async fn post_records(
    State(state): Shared,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<BatchOutcome>, ApiFailure> {
    let caller = authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some(NDJSON) {
        return Err(ApiFailure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!("a record batch is {NDJSON} (one record line per line), not {content_type:?}"),
        ));
    }
    let lines = parse_batch(&body)?;
    if lines.len() > MAX_BATCH_LINES {
        return Err(ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "{} records in one batch; at most {MAX_BATCH_LINES}",
                lines.len()
            ),
        ));
    }
    if lines.is_empty() {
        return Err(ApiFailure::bad_request(
            "empty_batch",
            "the batch holds no records",
        ));
    }
    state
        .batches
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Json(ingest(&state, lines, &caller.label, true).await?))
}

/// Takes verified records into their sessions' chains and answers with receipts: a sync
/// batch, or a bundle's records. With `limit_devices`, each device's batch rate is limited
/// (a bundle is one upload, however many devices it holds).
async fn ingest(
    state: &AppState,
    lines: Vec<Line>,
    venue: &str,
    limit_devices: bool,
) -> Result<BatchOutcome, ApiFailure> {
    let mut by_session: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for line in lines {
        by_session
            .entry(line.record.session.clone())
            .or_default()
            .push(line);
    }
    let mut outcome = BatchOutcome {
        sessions: Vec::new(),
        rejected: Vec::new(),
    };
    let mut queued = false;
    let (mut covered, mut plans) = (Vec::new(), Vec::new());
    // Every session's facts and rate first, so a refused batch applies nothing.
    let mut sessions = Vec::with_capacity(by_session.len());
    for (session, mut lines) in by_session {
        lines.sort_by_key(|l| l.record.seq);
        let (facts, known) = match state.store.session_facts(&session).await? {
            Some(facts) => (Some(facts), true),
            None => (lines.iter().find_map(SessionFacts::from_start), false),
        };
        let Some(facts) = facts else {
            outcome
                .rejected
                .extend(lines.iter().map(|l| missing_start(&session, l)));
            continue;
        };
        if limit_devices && let Err(wait) = state.per_device.take(&facts.device) {
            return Err(ApiFailure::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many batches from device {}", facts.device),
            )
            .retry_after(wait));
        }
        sessions.push((session, lines, facts, known));
    }
    for (session, lines, facts, known) in sessions {
        // Signatures are checked off the async threads: a batch may hold thousands.
        let (checked, rejected, lines) = {
            let facts = facts.clone();
            tokio::task::spawn_blocking(move || {
                let mut checked = Vec::with_capacity(lines.len());
                let mut rejected = Vec::new();
                for l in &lines {
                    match facts.check(l) {
                        Ok(()) => checked.push(Incoming::from(l)),
                        Err(r) => rejected.push(r),
                    }
                }
                (checked, rejected, lines)
            })
            .await
            .map_err(|e| {
                ApiFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?
        };
        outcome.rejected.extend(rejected);
        // A new session exists only once its first record verified: a forged or broken
        // start creates nothing, and the records after it wait for a real one.
        if !known && !checked.iter().any(|r| r.seq == 1) {
            outcome.rejected.extend(
                checked
                    .iter()
                    .filter_map(|r| lines.iter().find(|l| l.hash == r.hash))
                    .map(|l| missing_start(&session, l)),
            );
            continue;
        }
        let checks = checks_for(state, &facts, venue).await?;
        let from = checked.iter().map(|r| r.seq).min();
        let plan = state.store.apply(&facts, checked, &checks, &now()).await?;
        queued |= !plan.append.is_empty();
        // Proofs for every record of the batch now in the chain, and for held-back ones
        // it completed (they lie between the batch's first seq and the new head).
        covered.push(Covered {
            session,
            seq: plan.seq,
            from,
        });
        plans.push(plan);
    }
    if queued {
        state.wake.notify_waiters();
    }
    let head = match covered.is_empty() {
        true => None,
        false => Some(state.sequencer.run(&*state.store).await?),
    };
    let receipts = crate::log::receipts(&*state.store, &state.key, &covered, head).await?;
    for (plan, receipt) in plans.into_iter().zip(receipts) {
        outcome.sessions.push(SessionOutcome {
            session: receipt.session.clone(),
            stored: plan.append.len() as u64,
            already_stored: plan.already_stored,
            forks: plan.forks.iter().map(|(_, r)| r.seq).collect(),
            held_back: plan.held_back,
            gap: plan.gap,
            receipt,
        });
    }
    Ok(outcome)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiFailure {
    ApiFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

/// `POST /v1/bundles`: a proctor's bundle, taken as a sync by hand. Its signature must be
/// the proctor's (of the pack the server holds, when it does); its records are then
/// verified and stored exactly as a sync batch's; its receipts signed by this server are
/// held against the log, and any the log does not bear out are reported and flagged.
async fn post_bundle(
    State(state): Shared,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<BundleImport>, ApiFailure> {
    use sqlexam_export::bundle::{Known, parse, verify};
    let caller = authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    let bundle = tokio::task::spawn_blocking(move || parse(&body))
        .await
        .map_err(internal)?
        .map_err(|e| {
            ApiFailure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.code(),
                format!("not a bundle: {e}"),
            )
        })?;
    let pack = state.store.pack_facts(&bundle.manifest.pack.hash).await?;
    let own = state.key.public();
    let known = Known {
        pack: pack.as_ref().map(|p| {
            (
                p.hash.clone(),
                p.proctor_key
                    .as_deref()
                    .and_then(sqlexam_core::crypto::PublicKey::from_hex),
            )
        }),
        server_keys: vec![own],
    };
    let (bundle, report) = tokio::task::spawn_blocking(move || {
        let report = verify(&bundle, &known);
        (bundle, report)
    })
    .await
    .map_err(internal)?;
    if !report.signature_valid || report.pack_key_matches == Some(false) || !report.records_intact {
        let why: Vec<&String> = report
            .problems
            .iter()
            .filter(|p| !p.starts_with("session ") && !p.starts_with("receipts "))
            .collect();
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bundle_not_signed",
            format!(
                "the bundle is not as the pack's proctor signed it, so nothing was taken: {}",
                why.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    // Against the log as it is before the bundle's records are taken: they could otherwise
    // rebuild the very history the server lost.
    let m = &bundle.manifest;
    let contradictions = contradictions(&state, m).await?;
    // The lines are the ones the proctor signed (the digest held). Numbered as in the file.
    let lines = parse_batch(&bundle.body).map_err(|mut e| {
        e.status = StatusCode::UNPROCESSABLE_ENTITY;
        e.body.line = e.body.line.map(|l| l + 1);
        e.body.message = format!(
            "a record line of the bundle (lines are counted from the header, line 1): {}",
            e.body.message
        );
        e
    })?;
    // A bundle is of one pack: a record of another is refused, not slipped in under it.
    if let Some(l) = lines.iter().find(|l| l.record.pack.hash != m.pack.hash) {
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_pack",
            format!(
                "line {}: a record of pack {} in a bundle of pack {}: nothing was taken",
                l.line + 1,
                l.record.pack.hash,
                m.pack.hash
            ),
        )
        .at_line(l.line + 1));
    }
    if lines.is_empty() {
        return Err(ApiFailure::bad_request(
            "empty_batch",
            "the bundle holds no records",
        ));
    }
    let mut merged: BTreeMap<String, SessionOutcome> = BTreeMap::new();
    let mut rejected = Vec::new();
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() {
        let chunk: Vec<Line> = lines.by_ref().take(MAX_BATCH_LINES).collect();
        // The venue the proctor named — when the pack's proctor is known to have signed it;
        // else the uploading token's.
        let venue = match m.venue.trim() {
            named if pack.is_some() && !named.is_empty() => named,
            _ => caller.label.as_str(),
        };
        let outcome = ingest(&state, chunk, venue, false).await?;
        rejected.extend(outcome.rejected.into_iter().map(|mut r| {
            r.line += 1;
            r
        }));
        for s in outcome.sessions {
            match merged.get_mut(&s.session) {
                Some(m) => {
                    m.stored += s.stored;
                    m.already_stored += s.already_stored;
                    m.forks.extend(s.forks);
                    m.held_back = s.held_back;
                    m.gap = s.gap;
                    m.receipt = s.receipt;
                }
                None => {
                    merged.insert(s.session.clone(), s);
                }
            }
        }
    }
    if !contradictions.is_empty() {
        eprintln!(
            "sqlexam serve: BUNDLE {} ({} {}, venue {:?}) CONTRADICTS THIS SERVER'S LOG: {}",
            report.fingerprint,
            m.pack.id,
            m.pack.version,
            m.venue,
            contradictions
                .iter()
                .map(|(_, d)| d.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let flags = contradictions
            .iter()
            .map(|(size, detail)| crate::db::Flag {
                exam: m.pack.id.clone(),
                session: String::new(),
                seq: *size,
                kind: "log_contradiction".into(),
                detail: format!(
                    "bundle {} (venue {:?}): {detail}",
                    report.fingerprint, m.venue
                ),
            })
            .collect();
        state.store.add_flags(flags, &now()).await?;
    }
    Ok(Json(BundleImport {
        fingerprint: report.fingerprint,
        pack: m.pack.clone(),
        venue: m.venue.clone(),
        proctor: if pack.is_some() {
            "verified"
        } else {
            "pack_not_held"
        }
        .into(),
        records: report.records as u64,
        sessions: merged.into_values().collect(),
        rejected,
        contradictions: contradictions.into_iter().map(|(_, d)| d).collect(),
    }))
}

/// The checkpoints of this server's log in a bundle (signed by this server, so once true)
/// that the log now contradicts: a tree larger than the log, or another root at that size.
async fn contradictions(
    state: &AppState,
    m: &sqlexam_export::bundle::Manifest,
) -> Result<Vec<(u64, String)>, ApiFailure> {
    let own = state.key.public();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &m.receipts {
        if sqlexam_core::crypto::PublicKey::from_hex(&s.public_key) != Some(own) {
            continue;
        }
        for c in &s.checkpoints {
            let Ok(cp) = sqlexam_core::log::open_checkpoint(&c.note, &own) else {
                continue;
            };
            if !seen.insert(cp.size) {
                continue;
            }
            match crate::log::root_at(&*state.store, cp.size).await? {
                None => out.push((
                    cp.size,
                    format!(
                        "this server signed a log of {} records, but its log now holds fewer: records it receipted are gone (restored from an old backup?)",
                        cp.size
                    ),
                )),
                Some(root) if root != cp.root => out.push((
                    cp.size,
                    format!(
                        "this server signed another tree of its first {} records than its log now holds: its history was rewritten",
                        cp.size
                    ),
                )),
                Some(_) => {}
            }
        }
    }
    Ok(out)
}

fn missing_start(session: &str, l: &Line) -> Rejected {
    Rejected {
        line: l.line,
        session: Some(session.to_owned()),
        seq: Some(l.record.seq),
        code: "missing_start".into(),
        message: format!(
            "the server holds nothing of session {session} and the batch does not start it with a valid first record: send from seq 1"
        ),
    }
}

/// The exam's pack and the session's pack, as this server holds them.
async fn checks_for(
    state: &AppState,
    facts: &SessionFacts,
    venue: &str,
) -> Result<Checks, ApiFailure> {
    let exam_pack = state.store.exam_pack(&facts.exam).await?;
    let session_pack = match &exam_pack {
        Some(p) if p.hash == facts.pack_hash => Some(p.clone()),
        _ => state.store.pack_facts(&facts.pack_hash).await?,
    };
    Ok(Checks {
        exam_pack_hash: exam_pack.map(|p| p.hash),
        proctor_key: session_pack.map(|p| {
            p.proctor_key
                .as_deref()
                .and_then(sqlexam_core::crypto::PublicKey::from_hex)
        }),
        venue: venue.to_owned(),
    })
}

async fn get_session(
    State(state): Shared,
    headers: HeaderMap,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<SessionHeld>, ApiFailure> {
    authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    let from = query_u64(&query, "from")?;
    // An unknown session is held at 0: the device sends from seq 1.
    let (seq, held_back) = state.store.held(&session).await?.unwrap_or_default();
    let covered = Covered {
        session: session.clone(),
        seq,
        from,
    };
    let receipt = crate::log::receipts(&*state.store, &state.key, &[covered], None)
        .await?
        .pop()
        .ok_or_else(|| {
            ApiFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no receipt")
        })?;
    Ok(Json(SessionHeld {
        receipt,
        session,
        held_back,
    }))
}

#[derive(Serialize)]
struct ExamRow {
    exam: String,
    version: String,
    pack_hash: String,
}

async fn list_exams(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<Vec<ExamRow>>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    let exams = state.store.exams().await?;
    Ok(Json(
        exams
            .into_iter()
            .map(|(exam, version, pack_hash)| ExamRow {
                exam,
                version,
                pack_hash,
            })
            .collect(),
    ))
}

/// The header that carries a sealed pack's start code on upload (never a query string:
/// those end up in logs).
pub const START_CODE_HEADER: &str = "x-sqlexam-start-code";

async fn put_pack(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
    Body(body): Body,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    authorize(&state, &headers, &[Role::Organizer]).await?;
    let start_code = headers
        .get(START_CODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let trust = state.trust.clone();
    let bytes = body.to_vec();
    let checked = tokio::task::spawn_blocking(move || {
        let code = start_code.as_deref();
        // Verified as the app verifies a pack, and opened to prove the start code. Only the
        // clock differs: an organizer uploads ahead of the exam and may upload again after
        // it to re-grade.
        let verified = sqlexam_core::pack::verify_in_window(&bytes, &trust, code)?;
        let (id, version, hash) = (
            verified.manifest.id.clone(),
            verified.manifest.version.clone(),
            verified.hash.clone(),
        );
        let proctor = verified.manifest.proctor_public_key().map(|k| k.to_hex());
        let sealed = verified.is_sealed();
        let pack = verified.open(code)?;
        Ok::<_, PackError>((
            id,
            version,
            hash,
            proctor,
            sealed,
            pack.problems.len(),
            bytes,
            start_code,
        ))
    })
    .await
    .map_err(|e| ApiFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let (id, version, hash, proctor_key, sealed, problems, bytes, start_code) =
        checked.map_err(|e| {
            // Every refusal is about the pack (or its code) as sent: 422.
            let hint = match e {
                PackError::Sealed => format!(
                    "{e}: give it in the {START_CODE_HEADER} header, so the server can re-grade"
                ),
                _ => e.to_string(),
            };
            ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), hint)
        })?;
    if id != exam {
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_exam",
            format!("this is a pack of exam {id:?}, uploaded as {exam:?}"),
        ));
    }
    let stored = StoredPack {
        exam: id.clone(),
        version: version.clone(),
        hash: hash.clone(),
        bytes,
        start_code: if sealed { start_code } else { None },
        proctor_key,
        uploaded_at: now(),
    };
    let put = state.store.put_pack(&stored).await?;
    if put.is_ok() {
        // Submissions that came before their pack are graded now.
        let requeued = state.store.requeue_waiting(&hash).await?;
        if requeued > 0 {
            state.wake.notify_waiters();
        }
    }
    if let Err(held) = put {
        return Err(ApiFailure::new(
            StatusCode::CONFLICT,
            "equivocation",
            format!(
                "exam {id} version {version} is already pack {held}; a different pack of the same version is refused — give it a new version"
            ),
        ));
    }
    Ok(Json(serde_json::json!({
        "exam": id, "version": version, "pack_hash": hash, "sealed": sealed, "problems": problems,
    })))
}

async fn get_pack(
    State(state): Shared,
    headers: HeaderMap,
    Path(exam): Path<String>,
) -> Result<Response, ApiFailure> {
    authorize(&state, &headers, &[Role::Venue, Role::Organizer]).await?;
    let missing = || ApiFailure::not_found(format!("the server holds no pack of exam {exam:?}"));
    let pack = state.store.exam_pack(&exam).await?.ok_or_else(missing)?;
    let bytes = state
        .store
        .pack_bytes(&pack.hash)
        .await?
        .ok_or_else(missing)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-{}.sqlexam\"",
                    pack.exam, pack.version
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
