//! A venue reconnecting at once (BENCHMARKS.md): 1,000 devices, each with a backlog of 50
//! signed records, all reconnect in the same instant to `sqlexam serve` processes on
//! loopback — SQLite (one process) and PostgreSQL with fsync on (two processes on one
//! database, devices spread over both). Each device does what the sync client does on
//! reconnecting: asks what the server holds of its session (`GET /v1/sessions/{id}?from=1`),
//! then posts its backlog as one batch and gets its receipt.
//!
//! Prints, per backend, the batch latency (p50/p99), the reconnect latency (first request
//! to receipt, p50/p99), the records stored per second over the burst, and that rate over
//! ring's single-thread Ed25519 verification rate on the same records, measured in the same
//! run (the floor: every record's signature must be checked). Checks 0 errors, every record
//! stored exactly once, and every receipt proving all 50 records. Asserts nothing about
//! time. Last line: `reconnect_p99_ms=… ingest_ratio=…` (the worse backend of each).
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

use std::ffi::OsStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlexam_core::crypto::PublicKey;
use sqlexam_tests::pg::PgCluster;
use sqlexam_tests::{
    Api, Device, ServeProcess, backlogs, checked_receipt, create_token, median, ndjson, organizer,
    verify_rate,
};

const DEVICES: usize = 1000;
const BACKLOG: usize = 50;
const ROUNDS: usize = 3;

struct Burst {
    rate: f64,
    batch: Vec<Duration>,
    reconnect: Vec<Duration>,
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// Every device reconnects at once; returns the rate and the latencies.
async fn burst(urls: &[String], token: &str, devices: &Arc<Vec<Device>>, key: &PublicKey) -> Burst {
    // Bodies and clients are made before the clock starts: the devices' work is not the
    // server's.
    let bodies: Vec<String> = devices.iter().map(|d| ndjson(&d.records)).collect();
    let apis: Vec<Arc<Api>> = urls.iter().map(|u| Arc::new(Api::new(u))).collect();
    let start = Arc::new(tokio::sync::Barrier::new(DEVICES + 1));
    let mut tasks = Vec::with_capacity(DEVICES);
    for (i, body) in bodies.into_iter().enumerate() {
        let api = apis[i % apis.len()].clone();
        let (token, start) = (token.to_owned(), start.clone());
        let session = devices[i].session.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let began = Instant::now();
            let held = api
                .get(&token, &format!("/v1/sessions/{session}?from=1"))
                .await;
            assert_eq!(held.status, 200, "{}", held.text);
            let sent = Instant::now();
            let reply = api.post_batch(&token, body).await;
            let done = Instant::now();
            (reply, done - sent, done - began)
        }));
    }
    start.wait().await;
    let t = Instant::now();
    let mut replies = Vec::with_capacity(DEVICES);
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    let elapsed = t.elapsed();
    let (mut batch, mut reconnect) = (Vec::new(), Vec::new());
    for (i, (reply, b, r)) in replies.iter().enumerate() {
        // 0 errors: every batch stored whole, every receipt proving all of it.
        assert_eq!(reply.status, 200, "{}", reply.text);
        let s = &reply.json["sessions"][0];
        assert_eq!(s["stored"], BACKLOG as u64, "{}", reply.text);
        let receipt = checked_receipt(&s["receipt"], key, &devices[i].records);
        assert_eq!(receipt.entries.len(), BACKLOG);
        batch.push(*b);
        reconnect.push(*r);
    }
    batch.sort();
    reconnect.sort();
    Burst {
        rate: (DEVICES * BACKLOG) as f64 / elapsed.as_secs_f64(),
        batch,
        reconnect,
    }
}

/// The records a server holds, from its `/metrics` (an organizer's).
async fn stored(url: &str, organizer: &str) -> u64 {
    let text = Api::new(url).get(organizer, "/metrics").await.text;
    text.lines()
        .find_map(|l| l.strip_prefix("sqlexam_records_stored "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

struct Figures {
    floor: f64,
    rate: f64,
    batch: (f64, f64),
    reconnect: (f64, f64),
}

/// `ROUNDS` rounds, each with fresh devices: the floor, then the burst. Medians.
async fn rounds(
    urls: &[String],
    (token, organizer): (&str, &str),
    key: &PublicKey,
    make: &dyn Fn(&str) -> Vec<Device>,
    tag: &str,
) -> Figures {
    let mut f = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let before = stored(&urls[0], organizer).await;
    for round in 0..ROUNDS {
        let devices = Arc::new(make(&format!("{tag}{round}")));
        f.0.push(verify_rate(&devices));
        let b = burst(urls, token, &devices, key).await;
        f.1.push(b.rate);
        f.2.push(quantile(&b.batch, 0.5));
        f.3.push(quantile(&b.batch, 0.99));
        f.4.push(quantile(&b.reconnect, 0.5));
        f.5.push(quantile(&b.reconnect, 0.99));
    }
    // Every record stored exactly once.
    assert_eq!(
        stored(&urls[0], organizer).await - before,
        (ROUNDS * DEVICES * BACKLOG) as u64
    );
    Figures {
        floor: median(f.0),
        rate: median(f.1),
        batch: (median(f.2), median(f.3)),
        reconnect: (median(f.4), median(f.5)),
    }
}

fn report(name: &str, f: &Figures) -> f64 {
    let ratio = f.rate / f.floor;
    println!(
        "  ring Ed25519 verify, one thread:     {:9.0} records/s",
        f.floor
    );
    println!(
        "  {name:<36}{:9.0} records/s  ratio {ratio:.3}\n      batch p50 {:.0} ms p99 {:.0} ms; reconnect (resume + batch) p50 {:.0} ms p99 {:.0} ms",
        f.rate, f.batch.0, f.batch.1, f.reconnect.0, f.reconnect.1
    );
    ratio
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let org = organizer(1);
    let make = |tag: &str| backlogs(&org, tag, DEVICES, BACKLOG);
    println!(
        "reconnect: {DEVICES} devices × {BACKLOG} records at once, `sqlexam serve` processes on loopback; medians of {ROUNDS} rounds"
    );

    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let storage = [OsStr::new("--data"), data.path().as_os_str()];
    let token = create_token(home.path(), "venue", &storage);
    let organizer_token = create_token(home.path(), "organizer", &storage);
    let args = [
        storage[0],
        storage[1],
        OsStr::new("--workers"),
        OsStr::new("0"),
    ];
    let server = ServeProcess::start(home.path(), &args);
    let key = sqlexam_server::server_key(data.path()).unwrap().public();
    let sqlite = rounds(
        std::slice::from_ref(&server.url),
        (&token, &organizer_token),
        &key,
        &make,
        "sqlite",
    )
    .await;
    drop(server);
    let sqlite_ratio = report("SQLite, one process:", &sqlite);

    let cluster = PgCluster::start_durable();
    let database = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let storage = [OsStr::new("--database"), OsStr::new(&database)];
    let token = create_token(home.path(), "venue", &storage);
    let organizer_token = create_token(home.path(), "organizer", &storage);
    let args = [
        storage[0],
        storage[1],
        OsStr::new("--data"),
        data.path().as_os_str(),
        OsStr::new("--workers"),
        OsStr::new("0"),
    ];
    let a = ServeProcess::start(home.path(), &args);
    let b = ServeProcess::start(home.path(), &args);
    let key = sqlexam_server::server_key(data.path()).unwrap().public();
    let urls = [a.url.clone(), b.url.clone()];
    let pg = rounds(&urls, (&token, &organizer_token), &key, &make, "pg").await;
    drop((a, b));
    drop(cluster);
    let pg_ratio = report("PostgreSQL (fsync on), two processes:", &pg);

    println!(
        "reconnect_p99_ms={:.0} ingest_ratio={:.3}",
        sqlite.reconnect.1.max(pg.reconnect.1),
        sqlite_ratio.min(pg_ratio)
    );
}
