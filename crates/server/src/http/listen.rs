//! Serving connections so that no one client can starve the rest: a request's head must
//! arrive within [`HEADER_READ_TIMEOUT`], and the connections held open stay below the
//! process's file limit. When that cap is reached, a new client takes the place of the
//! oldest connection that has no request in progress (a slow or idle one, as a flood of
//! half-sent heads is) — so `/v1/health` answers a new client even then.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

/// How long a request's head may take to arrive (a keep-alive connection's next one too).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Files kept free below the process's limit: the database, packs, grading children's pipes.
const RESERVED_FILES: usize = 96;

/// The connections this process may hold at once: below its open-file limit.
pub fn connection_cap() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<usize>().ok())
        });
    match soft {
        Some(limit) => limit.saturating_sub(RESERVED_FILES).clamp(16, 100_000),
        // No /proc (Windows, macOS): a cap well below their usual limits.
        None => 4_096,
    }
}

/// One open connection.
struct Open {
    since: Instant,
    /// Requests being answered on it now.
    busy: Arc<AtomicUsize>,
    task: tokio::task::AbortHandle,
}

#[derive(Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Open>,
}

impl Connections {
    /// Closes the oldest connection with no request in progress; whether there was one.
    fn evict_idle(&mut self) -> bool {
        let oldest = self
            .open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| c.since)
            .map(|(id, _)| *id);
        match oldest.and_then(|id| self.open.remove(&id)) {
            Some(c) => {
                c.task.abort();
                true
            }
            None => false,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cap = connection_cap();
    let connections = Arc::new(Mutex::new(Connections::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of files (EMFILE/ENFILE): make room; other errors are one client's.
                let evicted = lock(&connections).evict_idle();
                let one_client = matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                );
                if !evicted && !one_client {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let busy = Arc::new(AtomicUsize::new(0));
        let id = {
            let mut c = lock(&connections);
            if c.open.len() >= cap && !c.evict_idle() {
                // Every connection is answering a request: this one waits for another try.
                continue;
            }
            c.next += 1;
            c.next
        };
        let service = {
            let (app, busy) = (app.clone(), busy.clone());
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let (app, busy) = (app.clone(), busy.clone());
                busy.fetch_add(1, Ordering::SeqCst);
                async move {
                    let response = app.oneshot(request.map(axum::body::Body::new)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                    response
                }
            })
        };
        let mut stop = stop_rx.clone();
        let registry = connections.clone();
        let task = tasks.spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = async {
                    let _ = stop.wait_for(|s| *s).await;
                } => {
                    // The request in flight is answered; the connection then closes.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
            lock(&registry).open.remove(&id);
        });
        lock(&connections).open.insert(
            id,
            Open {
                since: Instant::now(),
                busy,
                task,
            },
        );
        // Finished connections are reaped as we go, so the set does not grow.
        while tasks.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

fn lock(c: &Mutex<Connections>) -> std::sync::MutexGuard<'_, Connections> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}
