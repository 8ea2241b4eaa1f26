//! The background sync task: passes whenever there is something to send, capped exponential
//! backoff with full jitter between failed ones, Retry-After obeyed, an immediate retry as
//! soon as an unreachable server answers again, and a status the app shows as it is.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::{Client, Outbox, Server, SyncError, sync_pass};

/// What the indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No server is set: records stay on this machine (and go out by bundle).
    Off,
    /// The server cannot be reached; records wait here.
    Offline,
    /// Sending.
    Syncing,
    /// Everything this machine recorded is held by the server, with proof.
    Synced,
    /// The server refused, or its proofs did not hold: a person must look.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub state: SyncState,
    /// Records without a server's proof.
    pub unsent: usize,
    /// When a server's receipt was last stored (Unix ms).
    pub last_synced_wall_ms: Option<i64>,
    pub server: Option<String>,
    /// Why it is offline or refused.
    pub message: Option<String>,
    /// When the next attempt is due (ms from now), while waiting.
    pub retry_in_ms: Option<u64>,
}

impl SyncStatus {
    /// The status in `state`, with the store's counts — or `Refused` with the reason if
    /// the store cannot say (never "all synced" on a store that failed).
    fn new(state: SyncState, engine: &dyn Outbox, server: Option<&Server>) -> SyncStatus {
        let (state, counts, message) = match engine.sync_counts() {
            Ok(counts) => (state, Some(counts), None),
            Err(e) => (
                SyncState::Refused,
                None,
                Some(format!("the device's store: {e}")),
            ),
        };
        SyncStatus {
            state,
            unsent: counts.map_or(0, |c| c.unsent),
            last_synced_wall_ms: counts.and_then(|c| c.last_receipt_wall_ms),
            server: server.map(|s| s.url.clone()),
            message,
            retry_in_ms: None,
        }
    }
}

/// Capped exponential backoff with full jitter: the n-th wait is uniform in
/// `[0, min(cap, base · 2ⁿ)]`, so a room of devices does not retry in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base: Duration,
    cap: Duration,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            attempt: 0,
            base,
            cap,
        }
    }

    pub fn next_wait(&mut self) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(fastrand::f64())
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// How long to wait after `error`: at least what the server asked for.
fn wait_after(error: &SyncError, backoff: &mut Backoff) -> Duration {
    match error {
        SyncError::RateLimited { retry_after } => {
            retry_after.saturating_add(retry_after.mul_f64(fastrand::f64() / 2.0))
        }
        SyncError::Server {
            retry_after: Some(after),
            ..
        } => (*after).max(backoff.next_wait()),
        _ => backoff.next_wait(),
    }
}

/// After a failed pass that began with `before` records unsent: how long to wait, and the
/// status to show meanwhile (offline when it is retried by itself, refused when a person
/// must act). A pass that still got somewhere resets the backoff: the network works, if
/// not every time.
fn after_failure(
    error: &SyncError,
    engine: &dyn Outbox,
    server: &Server,
    before: usize,
    backoff: &mut Backoff,
) -> (Duration, SyncStatus) {
    if engine.sync_counts().is_ok_and(|c| c.unsent < before) {
        backoff.reset();
    }
    let wait = wait_after(error, backoff);
    let state = if sqlexam_core::ErrorCode::retryable(error) {
        SyncState::Offline
    } else {
        SyncState::Refused
    };
    let mut status = SyncStatus::new(state, engine, Some(server));
    status.message = Some(sqlexam_core::error_chain(&error));
    status.retry_in_ms = Some(wait.as_millis() as u64);
    (wait, status)
}

/// The backoff between failed passes: 0.5 s doubling to 30 s, full jitter.
fn sync_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
}

/// How often an idle task looks for new records in the store (a local query).
const IDLE_CHECK: Duration = Duration::from_secs(2);
/// How often an offline task checks whether the server answers again.
const PROBE: Duration = Duration::from_secs(1);
/// How often a task with nothing to send checks that the server still holds the history it
/// proved (a pass that resumes checks it first).
pub const LOG_CHECK: Duration = Duration::from_secs(180);

/// Where the task finds what it sends (the app opens its engine after the window is up).
pub trait Device: Send + Sync + 'static {
    fn outbox(&self) -> Option<&dyn Outbox>;
}

impl<O: Outbox + 'static> Device for std::sync::Arc<O> {
    fn outbox(&self) -> Option<&dyn Outbox> {
        Some(&**self)
    }
}

/// Waits `wait`, or less: until the settings change, or (when offline) the server answers.
async fn pause(
    wait: Duration,
    servers: &mut watch::Receiver<Option<Server>>,
    probe: Option<&Client>,
) -> bool {
    let sleep = tokio::time::sleep(wait);
    tokio::pin!(sleep);
    let back = async {
        match probe {
            Some(client) => loop {
                tokio::time::sleep(PROBE).await;
                if client.reachable().await {
                    break;
                }
            },
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = &mut sleep => true,
        changed = servers.changed() => changed.is_ok(),
        () = back => true,
    }
}

/// Runs until the `servers` sender is dropped: syncs `device`'s records to the server
/// currently set (`None`: sync is off), publishing its status on `status`.
pub async fn run<D: Device>(
    device: D,
    mut servers: watch::Receiver<Option<Server>>,
    status: watch::Sender<SyncStatus>,
) {
    let mut backoff = sync_backoff();
    let mut client: Option<Client> = None;
    let mut resume = true;
    let mut checked = tokio::time::Instant::now();
    loop {
        let Some(engine) = device.outbox() else {
            if !pause(IDLE_CHECK, &mut servers, None).await {
                return;
            }
            continue;
        };
        let server = servers.borrow_and_update().clone();
        let Some(server) = server else {
            status.send_replace(SyncStatus::new(SyncState::Off, engine, None));
            client = None;
            if !pause(IDLE_CHECK, &mut servers, None).await {
                return;
            }
            continue;
        };
        if client.as_ref().is_none_or(|c| *c.server() != server) {
            match Client::new(server.clone()) {
                Ok(c) => client = Some(c),
                Err(e) => {
                    let mut s = SyncStatus::new(SyncState::Refused, engine, Some(&server));
                    s.message = Some(sqlexam_core::error_chain(&e));
                    status.send_replace(s);
                    if !pause(Duration::MAX, &mut servers, None).await {
                        return;
                    }
                    continue;
                }
            }
            resume = true;
            backoff.reset();
        }
        let Some(client) = client.as_ref() else {
            continue;
        };
        let idle = SyncStatus::new(SyncState::Synced, engine, Some(&server));
        // Nothing to send for a while: the next pass resumes, which checks the log first.
        if idle.unsent == 0 && !resume && checked.elapsed() >= LOG_CHECK {
            resume = true;
        }
        if idle.unsent == 0 && !resume {
            status.send_replace(idle);
            if !pause(IDLE_CHECK, &mut servers, None).await {
                return;
            }
            continue;
        }
        status.send_replace(SyncStatus::new(SyncState::Syncing, engine, Some(&server)));
        let progress = |unsent: usize| {
            status.send_modify(|s| s.unsent = unsent);
        };
        let before = idle.unsent;
        if resume {
            checked = tokio::time::Instant::now();
        }
        match sync_pass(engine, client, resume, &progress).await {
            Ok(_) => {
                resume = false;
                backoff.reset();
                status.send_replace(SyncStatus::new(SyncState::Synced, engine, Some(&server)));
            }
            Err(error) => {
                resume = true;
                let (wait, shown) = after_failure(&error, engine, &server, before, &mut backoff);
                status.send_replace(shown);
                let offline = matches!(error, SyncError::Offline { .. });
                if !pause(wait, &mut servers, offline.then_some(client)).await {
                    return;
                }
            }
        }
    }
}

/// Syncs until everything is proven held, a person must act, or `deadline` passes: what
/// `sqlexam session sync` runs. `on_status` hears each change.
pub async fn settle(
    engine: &dyn Outbox,
    client: &Client,
    deadline: std::time::Instant,
    on_status: &(dyn Fn(&SyncStatus) + Send + Sync),
) -> Result<SyncStatus, SyncError> {
    let mut backoff = sync_backoff();
    let server = client.server().clone();
    loop {
        let before = engine.sync_counts()?.unsent;
        let progress = |unsent: usize| {
            let mut s = SyncStatus::new(SyncState::Syncing, engine, Some(&server));
            s.unsent = unsent;
            on_status(&s);
        };
        match sync_pass(engine, client, true, &progress).await {
            Ok(_) => return Ok(SyncStatus::new(SyncState::Synced, engine, Some(&server))),
            Err(e) if sqlexam_core::ErrorCode::retryable(&e) => {
                let (wait, shown) = after_failure(&e, engine, &server, before, &mut backoff);
                if std::time::Instant::now()
                    .checked_add(wait)
                    .is_none_or(|end| end > deadline)
                {
                    return Err(e);
                }
                on_status(&shown);
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_under_a_doubling_capped_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let waits: Vec<Duration> = (0..12).map(|_| b.next_wait()).collect();
        for (n, w) in waits.iter().enumerate() {
            let ceiling = Duration::from_millis(100 << n.min(20)).min(Duration::from_secs(2));
            assert!(*w <= ceiling, "wait {n}: {w:?} above {ceiling:?}");
        }
        // Full jitter: over many draws at the cap, waits spread over the range.
        let spread: Vec<Duration> = (0..200).map(|_| b.next_wait()).collect();
        assert!(spread.iter().any(|w| *w < Duration::from_millis(500)));
        assert!(spread.iter().any(|w| *w > Duration::from_millis(1500)));
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(100));
    }

    #[test]
    fn an_absurd_wait_asked_for_does_not_overflow() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        let w = wait_after(
            &SyncError::RateLimited {
                retry_after: Duration::MAX,
            },
            &mut b,
        );
        assert_eq!(w, Duration::MAX);
    }

    #[test]
    fn a_rate_limit_is_waited_out_in_full() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        for _ in 0..50 {
            let w = wait_after(
                &SyncError::RateLimited {
                    retry_after: Duration::from_secs(3),
                },
                &mut b,
            );
            assert!(
                w >= Duration::from_secs(3) && w <= Duration::from_millis(4500),
                "{w:?}"
            );
        }
    }
}
