//! A witness (`sqlexam witness`) beside a server (`sqlexam serve --witness`): it cosigns
//! the log's checkpoints as the log grows, the server serves its cosignatures, and when
//! the server's database comes back from an older backup the witness refuses to cosign
//! the shorter log and keeps the conflict, naming both sizes — as does the server.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr as os;
use std::time::Duration;

use serde_json::Value;
use sqlexam_core::problem::Expectation;
use sqlexam_sync::sync_pass;
use sqlexam_tests::{Api, Machine, ServeProcess, create_token, organizer, sync_client};

async fn witnesses(api: &Api, token: &str) -> Value {
    api.get(token, "/v1/log/witnesses").await.json
}

async fn log_size(api: &Api, token: &str, key: &sqlexam_core::crypto::PublicKey) -> u64 {
    let head = api.get(token, "/v1/log/checkpoint").await.json;
    sqlexam_core::tlog::open_checkpoint(head["checkpoint"].as_str().unwrap(), key)
        .unwrap()
        .size
}

/// Polls `what` every 50 ms until `done` holds of its answer (at most 20 s).
async fn until(what: impl AsyncFn() -> Value, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = what().await;
        if done(&v) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_the_growing_log_and_refuses_a_restored_one() {
    let org = organizer(2);
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let witness_data = tempfile::tempdir().unwrap();
    let storage = [os::new("--data"), data.path().as_os_str()];
    let venue = create_token(home.path(), "venue", &storage);
    let server_key = sqlexam_server::server_key(data.path()).unwrap().public();
    let server_pem = home.path().join("server.pem");
    std::fs::write(&server_pem, server_key.to_pem()).unwrap();
    let witness = ServeProcess::witness(
        home.path(),
        &[
            os::new("--data"),
            witness_data.path().as_os_str(),
            os::new("--log-key"),
            server_pem.as_os_str(),
        ],
    );
    let witness_key = sqlexam_server::private_key(witness_data.path(), "witness.key")
        .unwrap()
        .public();
    let witness_pem = home.path().join("witness.pem");
    std::fs::write(&witness_pem, witness_key.to_pem()).unwrap();
    let with_witness = format!("{}={}", witness.url, witness_pem.display());
    let args = [
        os::new("--workers"),
        os::new("0"),
        storage[0],
        storage[1],
        os::new("--witness"),
        os::new(&with_witness),
    ];
    let mut server = ServeProcess::start(home.path(), &args);
    let answer = |p: usize| {
        (
            org.problems[p].id.clone(),
            org.answer(p, Expectation::Accepted),
        )
    };
    let api = Api::new(&server.url);

    // The log grows; the witness catches up and the server serves its cosignature.
    let first = tokio::task::block_in_place(|| Machine::exam(&org, "c-1", &[answer(0)]));
    let client = sync_client(&server.url, &venue);
    sync_pass(&first.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let small = log_size(&api, &venue, &server_key).await;
    until(
        async || witnesses(&api, &venue).await,
        |w| w[0]["cosigned"].as_u64() == Some(small),
    )
    .await;
    let head = api.get(&venue, "/v1/log/checkpoint").await.json;
    let witnessed = head["witnessed"].as_str().unwrap();
    assert_eq!(
        sqlexam_core::cosign::cosigned_by(witnessed, &[witness_key]),
        vec![witness_key],
        "{witnessed}"
    );
    let backup = home.path().join("server-backup.sqlite");
    rusqlite::Connection::open(data.path().join("server.sqlite"))
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    // More records: the witness cosigns the larger log, with a consistency proof.
    let second =
        tokio::task::block_in_place(|| Machine::exam(&org, "c-2", &[answer(0), answer(1)]));
    sync_pass(&second.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let large = log_size(&api, &venue, &server_key).await;
    assert!(large > small);
    until(
        async || witnesses(&api, &venue).await,
        |w| w[0]["cosigned"].as_u64() == Some(large),
    )
    .await;

    // The server's database comes back from the backup (served anyway: its own check is
    // moved aside). The witness will not cosign the shorter log, and says so.
    server.kill();
    let db = data.path().join("server.sqlite");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", db.display()));
    }
    std::fs::copy(&backup, &db).unwrap();
    std::fs::remove_file(data.path().join("checkpoint.latest")).unwrap();
    let server = ServeProcess::start(home.path(), &args);
    let api = Api::new(&server.url);
    let views = until(
        async || witnesses(&api, &venue).await,
        |w| !w[0]["conflict"].is_null(),
    )
    .await;
    let conflict = views[0]["conflict"].as_str().unwrap();
    assert!(
        conflict.contains(&format!("{large} records"))
            && conflict.contains(&format!("only {small}")),
        "{conflict}"
    );
    let status = Api::new(&witness.url).get("", "/v1/witness").await.json;
    let seen = &status["conflicts"][0];
    assert_eq!(seen["offered_size"], small, "{status}");
    assert_eq!(seen["held_size"], large, "{status}");
    assert!(
        seen["detail"].as_str().unwrap().contains("went back"),
        "{status}"
    );
    assert_eq!(
        status["logs"][0]["size"], large,
        "it keeps what it cosigned"
    );
    drop((first, second));
}
