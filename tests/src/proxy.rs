//! A fault-injecting TCP proxy on loopback, between a sync client and its server(s).
//!
//! Each connection gets the fault its plan gives it: passed through, reset at once, the
//! request cut off half-way, an answer 500 the server never saw, the **lost
//! acknowledgement** (the whole request reaches the server, which commits and answers; the
//! answer is dropped), or a delay. A passed-through connection carries one request and is
//! closed once its answer has gone quiet, so the client opens new connections and meets new
//! faults. Upstreams are
//! taken in turn (several server processes) and may be replaced (a server restarted on
//! another port). Everything stops when the proxy is dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Closed with a reset before anything reaches the server.
    Reset,
    /// Part of the request reaches the server, then both sides are closed.
    CutRequest,
    /// The request reaches the server, which answers; the answer is dropped.
    LostAck,
    /// A 500 from "the server" (the proxy), which never saw the request.
    Error500,
    /// A 429 with `Retry-After: n` (seconds), the request not passed on.
    TooMany(u64),
    /// Passed through after a pause.
    Delay(Duration),
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Reset => "reset",
            Fault::CutRequest => "cut_request",
            Fault::LostAck => "lost_ack",
            Fault::Error500 => "error_500",
            Fault::TooMany(_) => "too_many",
            Fault::Delay(_) => "delay",
        }
    }
}

type Plan = Box<dyn FnMut(u64) -> Fault + Send>;

struct Shared {
    upstreams: Vec<SocketAddr>,
    plan: Plan,
    next: u64,
    log: Vec<(std::time::Instant, &'static str)>,
}

pub struct FaultProxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    /// How many requests have been passed on to a server so far.
    forwarded: tokio::sync::watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

/// How long an answer may pause before a passed-through connection is closed (answers are
/// small and written at once; a busy machine still gets a margin).
const QUIET: Duration = Duration::from_millis(150);

impl FaultProxy {
    /// Starts a proxy to `upstreams`; connection `n` (from 0) gets `plan(n)`.
    pub async fn start(
        upstreams: Vec<SocketAddr>,
        plan: impl FnMut(u64) -> Fault + Send + 'static,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            upstreams,
            plan: Box::new(plan),
            next: 0,
            log: Vec::new(),
        }));
        let for_task = shared.clone();
        let (forwarded_tx, forwarded) = tokio::sync::watch::channel(0u64);
        let forwarded_tx = Arc::new(forwarded_tx);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (fault, upstream) = {
                    let mut s = for_task.lock().unwrap();
                    let n = s.next;
                    s.next += 1;
                    let fault = (s.plan)(n);
                    s.log.push((std::time::Instant::now(), fault.name()));
                    let upstream = s.upstreams[(n as usize) % s.upstreams.len().max(1)];
                    (fault, upstream)
                };
                tokio::spawn(connection(client, upstream, fault, forwarded_tx.clone()));
            }
        });
        FaultProxy {
            url,
            shared,
            forwarded,
            task,
        }
    }

    /// Replaces the servers connections go to (a restarted server).
    pub fn set_upstreams(&self, upstreams: Vec<SocketAddr>) {
        self.shared.lock().unwrap().upstreams = upstreams;
    }

    /// Replaces the plan; connection numbers carry on.
    pub fn set_plan(&self, plan: impl FnMut(u64) -> Fault + Send + 'static) {
        self.shared.lock().unwrap().plan = Box::new(plan);
    }

    /// How many connections got each fault so far.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for (_, name) in &self.shared.lock().unwrap().log {
            *counts.entry(*name).or_default() += 1;
        }
        counts
    }

    /// Counts the requests passed on to a server: a test waits on it for "a request is at
    /// the server now" instead of guessing a time.
    pub fn forwarded(&self) -> tokio::sync::watch::Receiver<u64> {
        self.forwarded.clone()
    }

    /// When each connection came, and what it got.
    pub fn log(&self) -> Vec<(std::time::Instant, &'static str)> {
        self.shared.lock().unwrap().log.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address in a `http://host:port` URL.
pub fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

type Forwarded = Arc<tokio::sync::watch::Sender<u64>>;

async fn connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    forwarded: Forwarded,
) {
    let bounded = tokio::time::timeout(Duration::from_secs(120), async {
        match fault {
            Fault::Reset => {
                let _ = client.set_zero_linger();
            }
            Fault::Error500 => {
                answer(&mut client, "500 Internal Server Error", "", "internal").await;
            }
            Fault::TooMany(seconds) => {
                let header = format!("retry-after: {seconds}\r\n");
                answer(
                    &mut client,
                    "429 Too Many Requests",
                    &header,
                    "rate_limited",
                )
                .await;
            }
            Fault::CutRequest => {
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await
                {
                    let _ = server.write_all(&buf[..n / 2]).await;
                }
            }
            Fault::LostAck => relay(client, upstream, false, &forwarded).await,
            Fault::Delay(pause) => {
                tokio::time::sleep(pause).await;
                relay(client, upstream, true, &forwarded).await;
            }
            Fault::Pass => relay(client, upstream, true, &forwarded).await,
        }
    });
    let _ = bounded.await;
}

/// Answers a request itself with `status` and an ApiError body, and closes.
async fn answer(client: &mut TcpStream, status: &str, headers: &str, code: &str) {
    read_head(client).await;
    let body = format!(r#"{{"code":"{code}","message":"injected by the test proxy"}}"#);
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
}

/// Reads until the end of a request's head (or the client stops).
async fn read_head(client: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
}

/// Forwards one request and its answer (or, without `deliver`, waits for the whole answer
/// — the server has committed — and drops it: the lost acknowledgement), then closes both.
/// A request sent after the answer began (a reused connection) never reaches the server,
/// so each request meets a fault of its own.
async fn relay(client: TcpStream, upstream: SocketAddr, deliver: bool, forwarded: &Forwarded) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    forwarded.send_modify(|n| *n += 1);
    let (mut server_read, mut server_write) = server.into_split();
    let (mut client_read, mut client_write) = client.into_split();
    let forward = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let mut buf = vec![0u8; 65536];
    let mut answered = false;
    loop {
        let wait = if answered {
            QUIET
        } else {
            Duration::from_secs(60)
        };
        match tokio::time::timeout(wait, server_read.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                if !answered {
                    forward.abort();
                }
                answered = true;
                if deliver && client_write.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    forward.abort();
    let _ = client_write.shutdown().await;
}
