//! Server benchmarks (BENCHMARKS.md). Prints figures; asserts nothing about time.
//!
//! - **Ingest**: devices' backlogs of signed records posted at once over loopback (batches
//!   of 50, 32 in flight), stored durably with every signature verified — records per
//!   second, divided by ring's Ed25519 verification rate on one thread, measured in the same
//!   run over the same records. On SQLite (one server) and on PostgreSQL (a throwaway
//!   cluster with fsync on, two servers on one database).
//! - **Re-grade**: the starter pack's labelled submissions re-graded by one server worker (a child process, jobs
//!   claimed from the database) ÷ graded in this process on one thread.
//!
//! The last line: `ingest_ratio=… regrade_ratio=…` (the smaller ingest ratio of the two
//! backends). This executable is also its own grading child (`--grader`).
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlexam_core::grade::{Scope, grade};
use sqlexam_server::GraderCommand;
use sqlexam_tests::pg::PgCluster;
use sqlexam_tests::{
    Api, Backend, Device, TestServer, backlogs, median, ndjson, organizer, verify_rate,
};

const DEVICES: usize = 200;
const BACKLOG: usize = 50;
const IN_FLIGHT: usize = 32;

fn grader() -> GraderCommand {
    GraderCommand {
        program: std::env::current_exe().unwrap(),
        args: vec!["--grader".into()],
    }
}

/// Posts every device's backlog with IN_FLIGHT requests at once, spread over `servers`;
/// returns records per second and the p50/p99 batch latency.
async fn ingest(servers: &[TestServer], devices: &[Device]) -> (f64, Duration, Duration) {
    // The bodies are made before the clock starts: the client's work is not the server's.
    let bodies: Arc<Vec<String>> = Arc::new(devices.iter().map(|d| ndjson(&d.records)).collect());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..IN_FLIGHT {
        let server = &servers[i % servers.len()];
        let (api, token) = (Api::new(&server.url), server.venue.clone());
        let (bodies, next) = (bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let d = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(d) else {
                    return latencies;
                };
                let sent = Instant::now();
                let reply = api.post_batch(&token, body.clone()).await;
                latencies.push(sent.elapsed());
                assert_eq!(reply.status, 200, "{}", reply.text);
                assert_eq!(reply.json["sessions"][0]["stored"], BACKLOG as u64);
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let rate = (devices.len() * BACKLOG) as f64 / t.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (rate, at(0.5), at(0.99))
}

fn main() {
    if std::env::args().any(|a| a == "--grader") {
        std::process::exit(match sqlexam_server::child_main() {
            c if c == std::process::ExitCode::SUCCESS => 0,
            _ => 1,
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

const ROUNDS: usize = 3;

/// Runs `ROUNDS` alternating rounds of the floor and the server on `servers`; returns the
/// median floor, the median rate and the median p50/p99 (ms).
async fn ingest_rounds(
    servers: &[TestServer],
    make_devices: &dyn Fn(&str) -> Vec<Device>,
    tag: &str,
) -> (f64, f64, f64, f64) {
    let (mut floors, mut rates, mut p50s, mut p99s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let devices = make_devices(&format!("{tag}{round}"));
        floors.push(verify_rate(&devices));
        let (rate, p50, p99) = ingest(servers, &devices).await;
        rates.push(rate);
        p50s.push(p50.as_secs_f64() * 1e3);
        p99s.push(p99.as_secs_f64() * 1e3);
    }
    (median(floors), median(rates), median(p50s), median(p99s))
}

async fn run() {
    // The whole starter pack: its labelled submissions are the re-grade corpus.
    let org = organizer(usize::MAX);
    let make_devices = |tag: &str| backlogs(&org, tag, DEVICES, BACKLOG);

    println!(
        "ingest: {DEVICES} devices × {BACKLOG} records, batches of {BACKLOG}, {IN_FLIGHT} in flight, loopback; medians of {ROUNDS} alternating rounds"
    );
    let server = TestServer::launch_with(&Backend::Sqlite, &org.trust, 0, None, grader()).await;
    let (floor_s, sqlite_rate, p50, p99) =
        ingest_rounds(std::slice::from_ref(&server), &make_devices, "sqlite").await;
    server.stop().await;
    let sqlite_ratio = sqlite_rate / floor_s;
    println!("  ring Ed25519 verify, one thread:     {floor_s:9.0} records/s");
    println!(
        "  SQLite, one server:                  {sqlite_rate:9.0} records/s  ratio {sqlite_ratio:.3}  batch p50 {p50:.1} ms p99 {p99:.1} ms"
    );
    let cluster = PgCluster::start_durable();
    let backend = Backend::Postgres(cluster.database().await);
    let a = TestServer::launch_with(&backend, &org.trust, 0, None, grader()).await;
    let b = TestServer::launch_with(&backend, &org.trust, 0, Some(&a), grader()).await;
    let servers = [a, b];
    let (floor_p, pg_rate, p50, p99) = ingest_rounds(&servers, &make_devices, "pg").await;
    for s in servers {
        s.stop().await;
    }
    drop(cluster);
    let pg_ratio = pg_rate / floor_p;
    println!("  ring Ed25519 verify, one thread:     {floor_p:9.0} records/s");
    println!(
        "  PostgreSQL (fsync on), two servers:  {pg_rate:9.0} records/s  ratio {pg_ratio:.3}  batch p50 {p50:.1} ms p99 {p99:.1} ms"
    );

    // Re-grade: every labelled submission of the starter pack (accepted, wrong, erroring and
    // refused answers to all its problems).
    let answers: Vec<(String, String)> = org
        .labelled
        .iter()
        .map(|(p, sql, _)| (p.clone(), sql.clone()))
        .collect();
    let server = regrade_server(&org).await;
    let (mut in_process, mut regraded) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let t = Instant::now();
        for (id, sql) in &answers {
            let p = org.problems.iter().find(|p| p.id == *id).unwrap();
            std::hint::black_box(grade(p, sql, Scope::All));
        }
        in_process.push(t.elapsed().as_secs_f64() * 1e3);
        let mut device = Device::new(
            &org,
            &format!("regrade-{round}"),
            &format!("c-regrade-{round}"),
        );
        device.start();
        for (i, (id, sql)) in answers.iter().enumerate() {
            let p = org.problems.iter().find(|p| p.id == *id).unwrap();
            device.push(Device::honest(p, i as u64 + 1, sql));
        }
        regraded.push(regrade(&server, &device).await.as_secs_f64() * 1e3);
    }
    server.stop().await;
    let (in_process, regraded) = (median(in_process), median(regraded));
    let regrade_ratio = in_process / regraded;
    println!(
        "re-grade: {} submissions, one worker vs one thread; medians of {ROUNDS} alternating rounds",
        answers.len()
    );
    println!("  in process:                          {in_process:9.1} ms");
    println!("  server worker (child process):       {regraded:9.1} ms  ratio {regrade_ratio:.3}");
    println!(
        "ingest_ratio={:.3} regrade_ratio={regrade_ratio:.3}",
        sqlite_ratio.min(pg_ratio)
    );
}

/// A one-worker server with the pack uploaded, whose child is already started and has the
/// sealed pack open (its key derived): a one-submission session is re-graded first, so the
/// rounds measure the worker's steady throughput.
async fn regrade_server(org: &sqlexam_tests::Organizer) -> TestServer {
    let server = TestServer::launch_with(&Backend::Sqlite, &org.trust, 1, None, grader()).await;
    let api = Api::new(&server.url);
    api.upload(&server.organizer, org).await;
    let mut warm = Device::new(org, "warm-up", "c-warm");
    warm.start();
    warm.push(Device::honest(&org.problems[0], 1, "SELECT 1"));
    assert_eq!(
        api.post_batch(&server.venue, ndjson(&warm.records))
            .await
            .status,
        200
    );
    api.wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(60))
        .await;
    server
}

/// Posts `device`'s records and times from the post to the last server verdict. Completion
/// is watched on the store's job counts in this process (a few cheap counts every
/// 5 ms), not through the results API, whose polling would take CPU from the worker.
async fn regrade(server: &TestServer, device: &Device) -> Duration {
    let api = Api::new(&server.url);
    let t = Instant::now();
    let posted = api.post_batch(&server.venue, ndjson(&device.records)).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    while server.store.counts().await.unwrap().jobs_queued > 0 {
        assert!(t.elapsed() < Duration::from_secs(600), "re-graded in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    t.elapsed()
}
