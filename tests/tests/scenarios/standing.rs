//! The server stays up for everyone else (issue 19, part 4): what a candidate holds — the
//! venue token on their machine, or nothing — cannot make the server read a huge body,
//! count the exam, or spend another device's rate.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sqlexam_tests::{Api, Backend, Device, TestServer, ndjson, organizer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a request's head announcing a 1 GiB body and the first 64 KiB of it, then reads
/// the status line of the answer: the server must answer without waiting for the rest.
async fn status_before_the_body(url: &str, head: &str) -> String {
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {address}\r\nContent-Length: {}\r\nContent-Type: application/x-ndjson\r\n\r\n",
        1u64 << 30
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // The server may close as soon as it answered; what it sent is still read below.
    let _ = stream.write_all(&vec![b'x'; 64 << 10]).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // Liveness, not speed: a server that waits for the gigabyte never answers at all.
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "{head}: no answer while the body was still coming"
    );
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_valid_token_is_refused_before_its_body_is_read() {
    let org = organizer(1);
    let server = TestServer::launch(&Backend::Sqlite, &org.trust, 0, None).await;
    for head in [
        format!("PUT /v1/exams/{}/pack HTTP/1.1", org.pack_id),
        "POST /v1/bundles HTTP/1.1".to_owned(),
        "POST /v1/records HTTP/1.1".to_owned(),
    ] {
        let status = status_before_the_body(&server.url, &head).await;
        assert!(status.starts_with("HTTP/1.1 401"), "{head}: {status}");
        let with_bad_token = format!("{head}\r\nAuthorization: Bearer sqx_not-a-token");
        let status = status_before_the_body(&server.url, &with_bad_token).await;
        assert!(status.starts_with("HTTP/1.1 401"), "{head}: {status}");
    }
    // A venue token (every candidate machine holds one) cannot upload a pack either.
    let as_venue = format!(
        "PUT /v1/exams/{}/pack HTTP/1.1\r\nAuthorization: Bearer {}",
        org.pack_id, server.venue
    );
    let status = status_before_the_body(&server.url, &as_venue).await;
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_counts_are_the_organizers() {
    let org = organizer(1);
    let server = TestServer::launch(&Backend::Sqlite, &org.trust, 0, None).await;
    let api = Api::new(&server.url);
    assert_eq!(api.get("", "/metrics").await.status, 401);
    // The venue token is on every candidate machine: no counts for it.
    assert_eq!(api.get(&server.venue, "/metrics").await.status, 403);
    let metrics = api.get(&server.organizer, "/metrics").await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    assert!(
        metrics.text.contains("sqlexam_records_stored 0"),
        "{}",
        metrics.text
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_a_forger_signs_do_not_spend_the_devices_rate() {
    let org = organizer(1);
    let server = TestServer::launch(&Backend::Sqlite, &org.trust, 0, None).await;
    let api = Api::new(&server.url);
    let mut victim = Device::new(&org, "s-victim", "c-victim");
    victim.start();
    let first = api.post_batch(&server.venue, ndjson(&victim.records)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The forger holds the venue token and knows the victim's session, but not its key:
    // records naming the victim's device with signatures that do not verify.
    let problem = &org.problems[0];
    let mut forged = victim.sign(2, victim.head(), Device::honest(problem, 1, "SELECT 1"));
    forged.signature[0] ^= 0xff;
    for _ in 0..60 {
        let reply = api
            .post_batch(&server.venue, ndjson(std::slice::from_ref(&forged)))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            reply.json["rejected"][0]["code"], "bad_signature",
            "{}",
            reply.text
        );
    }
    // The device's own next record still goes in.
    victim.push(Device::honest(problem, 1, "SELECT 1"));
    let genuine = api
        .post_batch(&server.venue, ndjson(&victim.records[1..]))
        .await;
    assert_eq!(genuine.status, 200, "{}", genuine.text);
    assert_eq!(genuine.json["sessions"][0]["stored"], 1, "{}", genuine.text);
    server.stop().await;
}

/// Opens `n` connections to `address` that each send half a request head and then wait;
/// returns once they are all open (or refused). Python, with its own file limit raised, so
/// the test process's limit does not matter.
fn half_sent_heads(address: &str, n: usize) -> std::process::Child {
    use std::io::BufRead;
    let (host, port) = address.rsplit_once(':').unwrap();
    let script = format!(
        r#"
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
for _ in range({n}):
    try:
        s = socket.create_connection(("{host}", {port}), timeout=5)
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    except OSError:
        pass
print("ready", len(held), flush=True)
sys.stdin.read()
"#
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("ready"), "{line}");
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_past_the_file_limit_do_not_keep_a_new_client_out() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = [
        std::ffi::OsStr::new("--data"),
        data.path().as_os_str(),
        std::ffi::OsStr::new("--workers"),
        std::ffi::OsStr::new("0"),
    ];
    let mut server = sqlexam_tests::ServeProcess::start_with_file_limit(home.path(), &args, 1024);
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut attacker = tokio::task::block_in_place(|| half_sent_heads(&address, 1_100));
    // A new client is answered while all of them still hang on (liveness, not speed: a
    // server out of files answers no one at all). The time is printed for BENCHMARKS.md.
    let asked = std::time::Instant::now();
    let health = Api::new(&server.url)
        .raw()
        .get(format!("{}/v1/health", server.url))
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    let answered = asked.elapsed();
    let _ = attacker.kill();
    let _ = attacker.wait();
    server.kill();
    let health = health.expect("/v1/health answered a new client");
    println!(
        "1,100 half-sent requests under a 1,024-file limit: /v1/health answered a new client in {} ms",
        answered.as_millis()
    );
    assert_eq!(health.status(), 200);
}

/// Runs `sqlexam token …` on `storage`; (exit code, stdout, stderr).
fn token_command(
    home: &std::path::Path,
    args: &[&str],
    storage: &[&std::ffi::OsStr],
) -> (i32, String, String) {
    let out = std::process::Command::new(sqlexam_tests::sqlexam_bin())
        .arg("token")
        .args(args)
        .args(storage)
        .env("SQLEXAM_HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A venue token leaks (it sits on every candidate machine): the organizer lists the
/// tokens, revokes that one, and every server process refuses it from then on.
async fn a_revoked_token_stops_working_in_every_process(backend: Backend) {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = match &backend {
        Backend::Postgres(url) => url.clone(),
        Backend::Sqlite => String::new(),
    };
    let mut storage = vec![std::ffi::OsStr::new("--data"), data.path().as_os_str()];
    if !url.is_empty() {
        storage.extend([
            std::ffi::OsStr::new("--database"),
            std::ffi::OsStr::new(&url),
        ]);
    }
    let leaked = sqlexam_tests::create_token(home.path(), "venue", &storage);
    let kept = sqlexam_tests::create_token(home.path(), "venue", &storage);
    let mut args = storage.clone();
    args.extend([std::ffi::OsStr::new("--workers"), std::ffi::OsStr::new("0")]);
    // Two processes when they can share the store (PostgreSQL); one on SQLite.
    let mut servers = vec![sqlexam_tests::ServeProcess::start(home.path(), &args)];
    if !url.is_empty() {
        servers.push(sqlexam_tests::ServeProcess::start(home.path(), &args));
    }
    let apis: Vec<Api> = servers.iter().map(|s| Api::new(&s.url)).collect();
    for api in &apis {
        assert_eq!(api.get(&leaked, "/v1/log/checkpoint").await.status, 200);
    }
    // The list names each token by the first digits of its hash, never the token.
    let (code, list, _) = token_command(home.path(), &["list", "--json"], &storage);
    assert_eq!(code, 0, "{list}");
    assert!(!list.contains(&leaked) && !list.contains(&kept), "{list}");
    let id = sqlexam_core::crypto::sha256_hex(leaked.as_bytes())[..16].to_owned();
    assert!(list.contains(&id), "{list}");
    // Too short, or unknown: refused with a reason.
    let (code, _, err) = token_command(home.path(), &["revoke", "abc"], &storage);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("at least 8"), "{err}");
    let (code, _, err) = token_command(home.path(), &["revoke", "0000000000000000"], &storage);
    assert_eq!(code, 3, "{err}");
    let (code, out, err) = token_command(home.path(), &["revoke", &id], &storage);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked venue token"), "{out}");
    // Every process refuses it once its one-second cache lapses; the other token works on.
    for api in &apis {
        let mut status = 0;
        for _ in 0..100 {
            status = api.get(&leaked, "/v1/log/checkpoint").await.status;
            if status == 401 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status, 401, "the revoked token still works at {}", api.url);
        assert_eq!(api.get(&kept, "/v1/log/checkpoint").await.status, 200);
    }
    let (_, list, _) = token_command(home.path(), &["list"], &storage);
    assert!(
        list.lines()
            .any(|l| l.starts_with(&id) && l.contains("revoked")),
        "{list}"
    );
    for mut s in servers {
        s.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_working_on_sqlite() {
    a_revoked_token_stops_working_in_every_process(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_working_in_two_processes_on_postgres() {
    let cluster = sqlexam_tests::pg::PgCluster::start();
    a_revoked_token_stops_working_in_every_process(Backend::Postgres(cluster.database().await))
        .await;
    drop(cluster);
}

/// Peak resident memory (VmHWM) of process `pid`, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        / 1024
}

/// Three 1 GiB pack uploads without a token, sent in full and at once to `sqlexam serve`:
/// each is refused as soon as its head is read, and the server's memory does not grow with
/// what they send (its peak stays under 300 MB). Prints the time to the refusal and the
/// peak: the figures in BENCHMARKS.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_unauthenticated_gigabyte_uploads_cost_the_server_nothing() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = [
        std::ffi::OsStr::new("--workers"),
        std::ffi::OsStr::new("0"),
        std::ffi::OsStr::new("--data"),
        data.path().as_os_str(),
    ];
    let server = sqlexam_tests::ServeProcess::start(home.path(), &args);
    let address = server.url.trim_start_matches("http://").to_owned();
    let before = peak_rss_mib(server.child.id());
    let started = std::time::Instant::now();
    let uploads = (0..3).map(|_| {
        let address = address.clone();
        tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let head = format!(
                "PUT /v1/exams/x/pack HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n",
                1u64 << 30
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let (mut read, mut write) = stream.into_split();
            // The whole gigabyte, as fast as the server takes it, until it closes.
            let send = tokio::spawn(async move {
                let chunk = vec![b'x'; 1 << 20];
                let mut sent = 0u64;
                while sent < 1 << 30 {
                    if write.write_all(&chunk).await.is_err() {
                        break;
                    }
                    sent += chunk.len() as u64;
                }
                sent
            });
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            while !answer.windows(2).any(|w| w == b"\r\n") {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
            let answered = started.elapsed();
            let sent = send.await.unwrap();
            (
                String::from_utf8_lossy(&answer).into_owned(),
                answered,
                sent,
            )
        })
    });
    let mut slowest = Duration::ZERO;
    for upload in uploads.collect::<Vec<_>>() {
        let (answer, answered, sent) = upload.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        slowest = slowest.max(answered);
        println!(
            "unauthenticated 1 GiB upload: 401 after {} ms, {} MiB of it sent before the server closed",
            answered.as_millis(),
            sent >> 20
        );
    }
    let peak = peak_rss_mib(server.child.id());
    println!(
        "3 × 1 GiB unauthenticated uploads at once: slowest 401 after {} ms; server peak RSS {peak} MiB (before: {before} MiB)",
        slowest.as_millis()
    );
    assert!(peak < 300, "server peak RSS {peak} MiB");
}
