//! Candidates' machines syncing to the server through a network that fails in every way a
//! venue's does: each record arrives exactly once, each machine ends up holding a proof of
//! each record that it checks itself, and a server that rewrites or drops its history is
//! caught before anything is marked synced.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::pack::Trust;
use sqlexam_core::session::verify_store_receipts;
use sqlexam_sync::{Client, SyncError, SyncStatus, settle, sync_pass};
use sqlexam_tests::pg::PgCluster;
use sqlexam_tests::proxy::{Fault, FaultProxy, addr};
use sqlexam_tests::{
    Api, Backend, Device, Machine, Organizer, ServeProcess, TestServer, create_token, ndjson,
    organizer,
};

/// One server on SQLite; two on one PostgreSQL database (as two processes would be).
async fn servers(backend: &Backend, trust: &Trust) -> Vec<TestServer> {
    let first = TestServer::launch(backend, trust, 1, None).await;
    match backend {
        Backend::Sqlite => vec![first],
        Backend::Postgres(_) => {
            let second = TestServer::launch(backend, trust, 1, Some(&first)).await;
            vec![first, second]
        }
    }
}

fn client(url: &str, token: &str, batch: usize) -> Client {
    sqlexam_tests::sync_client(url, token).with_batch_size(batch)
}

/// Candidate `n`'s machine: a few labelled answers of the organizer's problems.
fn machine(org: &Organizer, n: usize, answers: usize) -> Machine {
    let chosen: Vec<(String, String)> = org
        .labelled
        .iter()
        .cycle()
        .skip(n * 3)
        .take(answers)
        .map(|(p, sql, _)| (p.clone(), sql.clone()))
        .collect();
    Machine::exam(org, &format!("c-{n:03}"), &chosen)
}

/// What every machine must hold after settling: nothing unsent, and a proof of each of its
/// records that verifies offline against the server's key.
fn assert_all_proven(machines: &[Machine], key: &PublicKey) {
    for m in machines {
        let counts = m.engine.sync_counts().unwrap();
        assert_eq!(counts.unsent, 0, "{} has unsent records", m.session);
        let report = verify_store_receipts(&m.store(), std::slice::from_ref(key)).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.proven, m.engine.records().unwrap().len());
        assert_eq!(report.synced_unproven, 0);
    }
}

/// What the server must hold: each record once (a resend of everything stores nothing and
/// finds each record held, byte for byte), no forks, no rollbacks.
async fn assert_held_once(server: &TestServer, machines: &[Machine]) {
    let api = Api::new(&server.url);
    let mut total = 0;
    for m in machines {
        let records = m.engine.records().unwrap();
        total += records.len() as u64;
        let again = api.post_batch(&server.venue, ndjson(&records)).await;
        let s = &again.json["sessions"][0];
        assert_eq!(s["stored"], 0, "{}", again.text);
        assert_eq!(s["already_stored"], records.len() as u64);
        assert_eq!(s["forks"], serde_json::json!([]));
    }
    assert_eq!(server.store.counts().await.unwrap().records, total);
}

/// The faults of a venue's network, in a repeating order, for the first `faulty`
/// connections; every connection after those passes.
fn venue_network(faulty: u64) -> impl FnMut(u64) -> Fault + Send + 'static {
    const ORDER: [Fault; 12] = [
        Fault::Pass,
        Fault::LostAck,
        Fault::Pass,
        Fault::Reset,
        Fault::Pass,
        Fault::CutRequest,
        Fault::Delay(Duration::from_millis(150)),
        Fault::Pass,
        Fault::Error500,
        Fault::Pass,
        Fault::LostAck,
        Fault::TooMany(1),
    ];
    move |n| {
        if n < faulty {
            ORDER[(n % ORDER.len() as u64) as usize]
        } else {
            Fault::Pass
        }
    }
}

async fn every_record_arrives_once_through_a_failing_network(backend: Backend) {
    let org = organizer(2);
    let machines: Vec<Machine> =
        tokio::task::block_in_place(|| (0..3).map(|n| machine(&org, n, 6)).collect());
    let servers = servers(&backend, &org.trust).await;
    let server = &servers[0];
    Api::new(&server.url).upload(&server.organizer, &org).await;
    let proxy = FaultProxy::start(
        servers.iter().map(|s| addr(&s.url)).collect(),
        venue_network(48),
    )
    .await;

    // Three machines syncing at once, three records a batch, through the faults.
    let deadline = Instant::now() + Duration::from_secs(180);
    let syncs = machines.iter().map(|m| {
        let client = client(&proxy.url, &server.venue, 3);
        async move { settle(&m.engine, &client, deadline, &|_: &SyncStatus| {}).await }
    });
    for result in futures_join_all(syncs).await {
        result.unwrap();
    }

    let counts = proxy.counts();
    for fault in [
        "lost_ack",
        "reset",
        "cut_request",
        "error_500",
        "delay",
        "too_many",
    ] {
        assert!(
            counts.get(fault).copied().unwrap_or(0) > 0,
            "no {fault} was injected: {counts:?}"
        );
    }
    assert_all_proven(&machines, &server.key);
    assert_held_once(server, &machines).await;
    let kinds = Api::new(&server.url)
        .flag_kinds(&server.organizer, &org.pack_id)
        .await;
    assert!(
        !kinds.iter().any(|k| k == "fork" || k == "rollback"),
        "{kinds:?}"
    );
    for s in servers {
        s.stop().await;
    }
}

/// Runs futures side by side in this task (the engines are borrowed, not moved).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (f, out) in pending.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_arrives_once_through_a_failing_network_on_sqlite() {
    every_record_arrives_once_through_a_failing_network(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_arrives_once_through_a_failing_network_on_postgres_with_two_servers() {
    let cluster = PgCluster::start();
    every_record_arrives_once_through_a_failing_network(Backend::Postgres(
        cluster.database().await,
    ))
    .await;
    drop(cluster);
}

/// A `sqlexam serve` process SIGKILLed while a machine syncs through it, then started
/// again on its folder (on another port, behind the same address).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_batch_and_restarted_loses_nothing() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| machine(&org, 0, 12));
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let storage = [std::ffi::OsStr::new("--data"), data.path().as_os_str()];
    let token = create_token(home.path(), "venue", &storage);
    let serve = || ServeProcess::start(home.path(), &storage);
    let first = serve();
    // Slow answers, so the kill lands while batches are in flight.
    let proxy = FaultProxy::start(vec![addr(&first.url)], |_| {
        Fault::Delay(Duration::from_millis(60))
    })
    .await;
    let client = client(&proxy.url, &token, 1);
    let deadline = Instant::now() + Duration::from_secs(120);
    let total = m.engine.records().unwrap().len();
    let sync = settle(&m.engine, &client, deadline, &|_: &SyncStatus| {});
    let restart = async {
        let mut first = first;
        // Once some records are proven held, kill it while the next batch is in flight:
        // as soon as the proxy has passed a new request on to it.
        while m.engine.sync_counts().unwrap().unsent == total {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut forwarded = proxy.forwarded();
        let before = *forwarded.borrow_and_update();
        forwarded.wait_for(|n| *n > before).await.unwrap();
        first.kill();
        let unsent = m.engine.sync_counts().unwrap().unsent;
        // Down for a while: the client meets refused connections before the restart.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let second = tokio::task::block_in_place(serve);
        proxy.set_upstreams(vec![addr(&second.url)]);
        (second, unsent)
    };
    let (synced, (second, unsent_at_kill)) = tokio::join!(sync, restart);
    synced.unwrap();
    assert!(
        unsent_at_kill > 0,
        "the kill came after everything was sent"
    );
    let key = sqlexam_server::server_key(data.path()).unwrap().public();
    assert_all_proven(std::slice::from_ref(&m), &key);
    let records = m.engine.records().unwrap();
    let again = Api::new(&second.url)
        .post_batch(&token, ndjson(&records))
        .await;
    assert_eq!(
        again.json["sessions"][0]["already_stored"],
        records.len() as u64,
        "{}",
        again.text
    );
}

/// A server with the same key that serves another history (restored from an old backup
/// and written to since, or lying) — and one that lost everything — are caught: nothing
/// more is marked synced, and the proofs held from before still verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_rewrites_or_drops_history_is_caught() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| machine(&org, 0, 4));
    let honest = TestServer::start(&org.trust, 0).await;
    let proxy = FaultProxy::start(vec![addr(&honest.url)], |_| Fault::Pass).await;
    let c = client(&proxy.url, &honest.venue, 500);
    let quiet = |_: usize| {};
    let report = sync_pass(&m.engine, &c, true, &quiet).await.unwrap();
    assert_eq!(report.synced, m.engine.records().unwrap().len());
    let newest = m.engine.newest_checkpoint(&honest.key).unwrap().unwrap();

    // More answers after the first sync.
    tokio::task::block_in_place(|| {
        m.submit(&[(org.labelled[0].0.clone(), org.labelled[0].1.clone())])
    });
    let unsent = m.engine.sync_counts().unwrap().unsent;
    assert!(unsent > 0);

    // The impostor: the honest server's key, another history (other records, more of them).
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(
        honest.data_dir.join("server.key"),
        folder.path().join("server.key"),
    )
    .unwrap();
    let rewritten = TestServer::launch_in(&org.trust, folder).await;
    assert_eq!(rewritten.key, honest.key);
    let mut other = Device::new(&org, "s-other", "c-other");
    other.start();
    for i in 1..(newest.size + 5) {
        other.push(Device::submission(
            &org.problems[0],
            i,
            "SELECT 1",
            sqlexam_core::grade::Verdict::WrongAnswer,
            0,
        ));
    }
    Api::new(&rewritten.url)
        .post_batch(&rewritten.venue, ndjson(&other.records))
        .await;
    proxy.set_upstreams(vec![addr(&rewritten.url)]);
    let c = client(&proxy.url, &rewritten.venue, 500);
    let refused = sync_pass(&m.engine, &c, true, &quiet).await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Disproved(e) if e.to_string().contains("rewrote or dropped history")),
        "{refused:?}"
    );
    assert_eq!(
        m.engine.sync_counts().unwrap().unsent,
        unsent,
        "nothing marked"
    );

    // The amnesiac: the same key, an empty log.
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(
        honest.data_dir.join("server.key"),
        folder.path().join("server.key"),
    )
    .unwrap();
    let empty = TestServer::launch_in(&org.trust, folder).await;
    proxy.set_upstreams(vec![addr(&empty.url)]);
    let c = client(&proxy.url, &empty.venue, 500);
    let refused = sync_pass(&m.engine, &c, true, &quiet).await.unwrap_err();
    assert!(
        matches!(refused, SyncError::Untrusted(_) | SyncError::Disproved(_)),
        "{refused:?}"
    );
    assert_eq!(
        m.engine.sync_counts().unwrap().unsent,
        unsent,
        "nothing marked"
    );
    let report = verify_store_receipts(&m.store(), std::slice::from_ref(&honest.key)).unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    // Back to the honest server: the rest goes, and the proofs chain on.
    proxy.set_upstreams(vec![addr(&honest.url)]);
    let c = client(&proxy.url, &honest.venue, 500);
    sync_pass(&m.engine, &c, true, &quiet).await.unwrap();
    assert_all_proven(std::slice::from_ref(&m), &honest.key);
}

/// A session the server refuses (here another device took its id first) is set aside for
/// the pass: the machine's other sessions still go, and the refusal names the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_session_does_not_hold_up_the_others() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| {
        let m = machine(&org, 4, 3);
        m.engine.finish(&m.session).unwrap();
        m
    });
    let second = m
        .engine
        .start_session(&org.pack, Some(sqlexam_tests::START_CODE), "c-second", "")
        .unwrap();
    let server = TestServer::start(&org.trust, 0).await;
    // Someone else's device started a session with that id on the server first.
    let mut squatter = Device::new(&org, &second, "c-second");
    squatter.start();
    Api::new(&server.url)
        .post_batch(&server.venue, ndjson(&squatter.records))
        .await;
    // One record a batch: the refused session's record comes first in the outbox order
    // only after the first session's, and must not stop them either way.
    let c = client(&server.url, &server.venue, 1);
    let refused = sync_pass(&m.engine, &c, true, &|_| {}).await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused(why) if why.contains(&second)),
        "{refused:?}"
    );
    let records = m.engine.records().unwrap();
    let of_first = records
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains(&m.session))
        .count();
    assert_eq!(
        m.engine.sync_counts().unwrap().unsent,
        records.len() - of_first,
        "every record of the first session is proven held"
    );
}

/// Records the server already holds (its answer was lost, the machine crashed) are not
/// sent again: the machine asks what the server holds and keeps the proofs it is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_resumes_from_what_the_server_holds() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| machine(&org, 1, 5));
    let server = TestServer::start(&org.trust, 0).await;
    let records = m.engine.records().unwrap();
    // The records reached the server; the machine never heard.
    Api::new(&server.url)
        .post_batch(&server.venue, ndjson(&records))
        .await;
    let c = client(&server.url, &server.venue, 500);
    let report = sync_pass(&m.engine, &c, true, &|_| {}).await.unwrap();
    assert_eq!((report.sent, report.synced), (0, records.len()));
    assert_all_proven(std::slice::from_ref(&m), &server.key);
}

/// A server that says "too many requests, wait 2 s" is obeyed to the second; a wrong
/// token is refused at once, and nothing is marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_waited_out_and_a_wrong_token_is_refused() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| machine(&org, 2, 6));
    let server = TestServer::start(&org.trust, 0).await;
    let proxy = FaultProxy::start(vec![addr(&server.url)], |n| {
        if n == 3 {
            Fault::TooMany(2)
        } else {
            Fault::Pass
        }
    })
    .await;

    let wrong = client(&proxy.url, "sqx_not-a-token", 500);
    let refused = settle(
        &m.engine,
        &wrong,
        Instant::now() + Duration::from_secs(30),
        &|_: &SyncStatus| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused(m) if m.contains("the token is not known")),
        "{refused:?}"
    );
    let all = m.engine.records().unwrap().len();
    assert_eq!(m.engine.sync_counts().unwrap().unsent, all);

    let seen = Mutex::new(Vec::new());
    let c = client(&proxy.url, &server.venue, 2);
    settle(
        &m.engine,
        &c,
        Instant::now() + Duration::from_secs(60),
        &|s: &SyncStatus| {
            if let Some(message) = &s.message {
                seen.lock().unwrap().push(message.clone());
            }
        },
    )
    .await
    .unwrap();
    assert!(
        seen.lock().unwrap().iter().any(|m| m.contains("wait 2 s")),
        "{:?}",
        seen.lock().unwrap()
    );
    let log = proxy.log();
    let limited = log.iter().position(|(_, f)| *f == "too_many").unwrap();
    let waited = log[limited + 1].0 - log[limited].0;
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert_all_proven(std::slice::from_ref(&m), &server.key);
}

/// A receipt checked by the script of docs/sync.md, which shares no code with sqlexam: the
/// server's signed note and every record's inclusion proof, against the export's bytes. One
/// character changed in one record's SQL and the script refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg(unix)] // runs python3
async fn receipts_verify_with_the_documented_python_script_not_our_code() {
    let org = organizer(2);
    let m = tokio::task::block_in_place(|| machine(&org, 3, 3));
    let server = TestServer::start(&org.trust, 0).await;
    let records = m.engine.records().unwrap();
    let reply = Api::new(&server.url)
        .post_batch(&server.venue, ndjson(&records))
        .await;
    let receipt = &reply.json["sessions"][0]["receipt"];
    assert_eq!(
        receipt["entries"].as_array().map(Vec::len),
        Some(records.len()),
        "{}",
        reply.text
    );
    let dir = tempfile::tempdir().unwrap();
    let receipt_file = dir.path().join("receipt.json");
    std::fs::write(&receipt_file, receipt.to_string()).unwrap();
    let lines: Vec<String> = records.iter().map(|r| r.to_export_line()).collect();
    let export = dir.path().join("records.jsonl");
    std::fs::write(&export, lines.join("\n") + "\n").unwrap();

    // The script of docs/sync.md, between its markers.
    let doc = std::fs::read_to_string(sqlexam_tests::root().join("docs/sync.md")).unwrap();
    let script = doc
        .split("<!-- python-receipt-check -->")
        .nth(1)
        .expect("docs/sync.md holds the script between its markers")
        .trim()
        .trim_start_matches("```python")
        .trim_end_matches("```")
        .to_owned();
    let run = |export: &std::path::Path| {
        use std::io::Write;
        let mut child = std::process::Command::new("python3")
            .arg("-")
            .arg(&receipt_file)
            .arg(export)
            .arg(server.key.to_hex())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&export);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("verified {}", records.len())
    );

    // One character of one submission's SQL changed: its proof no longer holds.
    let mut edited = lines.clone();
    let (i, line) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains(r#"\"sql\":\""#))
        .expect("a submission record");
    let mut parsed: serde_json::Value = serde_json::from_str(line).unwrap();
    let bytes = parsed["bytes"].as_str().unwrap().to_owned();
    let at = bytes.find(r#""sql":""#).unwrap() + r#""sql":""#.len();
    let old = bytes[at..].chars().next().unwrap();
    let new = if old == 'x' { 'y' } else { 'x' };
    parsed["bytes"] = format!("{}{new}{}", &bytes[..at], &bytes[at + old.len_utf8()..]).into();
    edited[i] = parsed.to_string();
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, edited.join("\n") + "\n").unwrap();
    let out = run(&tampered);
    assert!(
        !out.status.success(),
        "an edited record passed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not in the log"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The command line end to end: a proctor fetches the exam's pack from the server (only a
/// pack that verifies is written), a machine's records go up with `session sync`, and
/// `receipt verify` checks the proofs offline — and names a proof that was tampered with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_fetches_the_pack_syncs_and_verifies_the_receipts() {
    use std::ffi::OsStr as os;
    let org = organizer(2);
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&os]| sqlexam_tests::cli(home.path(), args);
    // The organizer's key is trusted here (by the server, and by the proctor's CLI).
    let key_file = home.path().join("organizer.pub.pem");
    std::fs::write(&key_file, org.key.public().to_pem()).unwrap();
    let (code, text) = cli(&[os::new("trust"), os::new("add"), key_file.as_os_str()]);
    assert_eq!(code, Some(0), "{text}");
    let storage = [os::new("--data"), data.path().as_os_str()];
    let venue = create_token(home.path(), "venue", &storage);
    let organizer_token = create_token(home.path(), "organizer", &storage);
    let server = ServeProcess::start(home.path(), &storage);
    let url = server.url.clone();

    // Before the organizer uploads it there is nothing to fetch: said, and nothing written.
    let pack = home.path().join("exam.sqlexam");
    let fetch = |token: &str| {
        cli(&[
            os::new("pack"),
            os::new("fetch"),
            os::new("--server"),
            os::new(&url),
            os::new("--exam"),
            os::new(&org.pack_id),
            os::new("--token"),
            os::new(token),
            os::new("--out"),
            pack.as_os_str(),
        ])
    };
    let (code, text) = fetch(&venue);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("holds no pack"), "{text}");
    assert!(!pack.exists());
    let api = Api::new(&url);
    let uploaded = api.upload(&organizer_token, &org).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    let (code, text) = fetch("sqx_wrong");
    assert_eq!(code, Some(1), "{text}");
    assert!(!pack.exists(), "a refused fetch writes nothing");
    let (code, text) = fetch(&venue);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified"), "{text}");
    assert_eq!(std::fs::read(&pack).unwrap(), org.pack);

    // A session on the fetched pack, synced from the command line.
    let dir = home.path().join("machine");
    let d = [os::new("session"), os::new("--dir"), dir.as_os_str()];
    let (code, id) = cli(&[
        d[0],
        d[1],
        d[2],
        os::new("start"),
        os::new("--pack"),
        pack.as_os_str(),
        os::new("--start-code"),
        os::new(sqlexam_tests::START_CODE),
        os::new("--candidate"),
        os::new("c-cli"),
    ]);
    assert_eq!(code, Some(0), "{id}");
    let sync = |token: &str| {
        cli(&[
            d[0],
            d[1],
            d[2],
            os::new("sync"),
            os::new("--server"),
            os::new(&url),
            os::new("--token"),
            os::new(token),
            os::new("--timeout"),
            os::new("30"),
        ])
    };
    let (code, text) = sync(&venue);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("all synced"), "{text}");

    // Offline, with the server's key as the organizer published it.
    let key = home.path().join("server.pem");
    let served = api.get(&venue, "/v1/server-key").await;
    std::fs::write(&key, served.json["pem"].as_str().unwrap()).unwrap();
    let verify = || {
        cli(&[
            os::new("receipt"),
            os::new("verify"),
            dir.as_os_str(),
            os::new("--server-key"),
            key.as_os_str(),
        ])
    };
    let (code, text) = verify();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("receipts verify"), "{text}");
    // A proof edited in the store is named.
    let store = rusqlite::Connection::open(sqlexam_core::session::store_path(&dir)).unwrap();
    store
        .execute("UPDATE receipts SET leaf = leaf + 1 WHERE seq = 1", [])
        .unwrap();
    drop(store);
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("PROBLEM") && text.contains("record 1"),
        "{text}"
    );
}
