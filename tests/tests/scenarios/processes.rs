//! Two `sqlexam serve` processes on one PostgreSQL database, as a deployment outgrows one
//! machine: a venue's devices reconnect through both at once, batches overlap, and every
//! record is stored once, every submission re-graded once by whichever process claims it.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use sqlexam_core::problem::Expectation;
use sqlexam_tests::pg::PgCluster;
use sqlexam_tests::{
    Api, Device, LogWatcher, ServeProcess, checked_receipt, create_token, ndjson, organizer,
};

/// `sqlexam serve --database URL` with one re-grade worker.
fn serve(home: &Path, data: &Path, database: &str) -> ServeProcess {
    let server = ServeProcess::start(
        home,
        &[
            "--workers".as_ref(),
            "1".as_ref(),
            "--database".as_ref(),
            database.as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ],
    );
    assert!(
        !server.banner.contains("hunter2") && server.banner.contains(":***@"),
        "the password is never printed: {:?}",
        server.banner
    );
    server
}

fn token(home: &Path, database: &str, role: &str) -> String {
    create_token(home, role, &["--database".as_ref(), database.as_ref()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgres_store_and_regrade_each_record_once() {
    let org = organizer(2);
    let cluster = PgCluster::start();
    // The cluster trusts loopback, so the password is only there to be kept out of output.
    let database = cluster
        .database()
        .await
        .replace("sqlexam@", "sqlexam:hunter2@");
    // The organizer's trust store, which both processes read to check uploaded packs.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("trust.json"),
        serde_json::to_vec(&org.trust).unwrap(),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let (organizer_token, venue) = (
        token(home.path(), &database, "organizer"),
        token(home.path(), &database, "venue"),
    );
    let a = serve(home.path(), data.path(), &database);
    let b = serve(home.path(), data.path(), &database);
    let (api_a, api_b) = (Api::new(&a.url), Api::new(&b.url));
    api_a.upload(&organizer_token, &org).await;

    // 12 devices, each with every labelled submission of both problems.
    let devices: Vec<Device> = (0..12)
        .map(|d| {
            let mut device = Device::new(&org, &format!("s-{d}"), &format!("c-{d:03}"));
            device.start();
            for (i, (problem, sql, _)) in org.labelled.iter().enumerate() {
                let p = org.problems.iter().find(|p| p.id == *problem).unwrap();
                device.push(Device::honest(p, i as u64 + 1, sql));
            }
            device
        })
        .collect();
    // Each device sends its backlog to both servers at once, in overlapping halves.
    let mut sends = Vec::new();
    for device in &devices {
        let half = device.records.len() / 2 + 2;
        for (api, records) in [
            (&api_a, &device.records[..half]),
            (&api_b, &device.records[..]),
        ] {
            let body = ndjson(records);
            let venue = venue.clone();
            let api = Api::new(&api.url);
            sends.push(tokio::spawn(
                async move { api.post_batch(&venue, body).await },
            ));
        }
    }
    for send in sends {
        let reply = send.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json["sessions"][0]["forks"], serde_json::json!([]));
    }
    let key = sqlexam_server::server_key(data.path()).unwrap().public();
    // Both processes append to one log: every checkpoint either gives is one history.
    let mut log = LogWatcher::new(key);
    for device in &devices {
        let held = api_a
            .get(&venue, &format!("/v1/sessions/{}?from=1", device.session))
            .await;
        let receipt = checked_receipt(&held.json["receipt"], &key, &device.records);
        log.observe(&api_a, &venue, &receipt).await;
        log.observe(&api_b, &venue, &receipt).await;
        assert_eq!(receipt.seq, device.records.len() as u64);
        assert_eq!(receipt.entries.len(), device.records.len());
    }

    let results = api_b
        .wait_regraded(&organizer_token, &org.pack_id, Duration::from_secs(300))
        .await;
    let flags = api_b
        .get(
            &organizer_token,
            &format!("/v1/exams/{}/flags", org.pack_id),
        )
        .await;
    assert_eq!(flags.json["flags"], serde_json::json!([]), "{}", flags.text);
    let per_device = org.labelled.len() as u64;
    for candidate in results.as_array().unwrap() {
        let attempts: u64 = candidate["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["attempts"].as_u64().unwrap())
            .sum();
        assert_eq!(attempts, per_device, "each submission once: {candidate}");
    }
    assert!(
        org.labelled
            .iter()
            .any(|(_, _, e)| *e == Expectation::Accepted)
    );
    let metrics = api_a.get(&organizer_token, "/metrics").await;
    let stored = format!(
        "sqlexam_records_stored {}",
        devices.iter().map(|d| d.records.len()).sum::<usize>()
    );
    assert!(metrics.text.contains(&stored), "{}", metrics.text);
    assert!(
        metrics.text.contains("sqlexam_regrade_jobs_pending 0"),
        "{}",
        metrics.text
    );

    drop((a, b));
    drop(cluster);
}
