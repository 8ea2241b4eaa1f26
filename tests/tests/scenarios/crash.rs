//! A server process killed (SIGKILL) while it takes batches: every record whose receipt was
//! sent is there after the restart, and the rest arrive once when the devices send again.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use sqlexam_tests::{
    Api, Device, LogWatcher, ServeProcess, checked_receipt, create_token, ndjson, organizer,
};

/// `sqlexam serve` on SQLite in `data`, taking records only.
fn serve(home: &std::path::Path, data: &std::path::Path) -> ServeProcess {
    ServeProcess::start(
        home,
        &[
            "--workers".as_ref(),
            "0".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_receipted_record_is_lost_when_the_server_is_killed_mid_batch() {
    let org = organizer(1);
    let problem = &org.problems[0];
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let token = create_token(
        home.path(),
        "venue",
        &["--data".as_ref(), data.path().as_os_str()],
    );

    // 30 devices with 60 records each, sent 4 at a time.
    let devices: Vec<Device> = (0..30)
        .map(|d| {
            let mut device = Device::new(&org, &format!("s-{d}"), &format!("c-{d}"));
            device.start();
            for i in 1..60 {
                device.push(Device::submission(
                    problem,
                    i,
                    "SELECT 1",
                    sqlexam_core::grade::Verdict::WrongAnswer,
                    0,
                ));
            }
            device
        })
        .collect();
    let key = sqlexam_server::server_key(data.path()).unwrap().public();
    // The highest seq of each session proven in the server's log.
    let mut receipted: BTreeMap<String, u64> = BTreeMap::new();
    let mut log = LogWatcher::new(key);
    let mut kills = 0;
    for round in 0..60u64 {
        let mut server = serve(home.path(), data.path());
        let api = Api::new(&server.url);
        // Everything proven before the kill is still proven after it, in a log that is
        // one history with every checkpoint seen before.
        for device in &devices {
            let Some(seq) = receipted.get(&device.session) else {
                continue;
            };
            let held = api
                .get(&token, &format!("/v1/sessions/{}?from=1", device.session))
                .await;
            let receipt = checked_receipt(&held.json["receipt"], &key, &device.records);
            log.observe(&api, &token, &receipt).await;
            let proven = receipt.entries.len() as u64;
            assert!(
                receipt.seq >= *seq && proven >= *seq,
                "round {round}: {} proven through {seq}, now holds {} and proves {proven}",
                device.session,
                receipt.seq
            );
        }
        // Send batches while the server is killed, at a moment that moves from round to
        // round; a request the kill cuts off gets no receipt and is sent again later.
        let kill_after = Duration::from_millis(2 + (round * 7) % 40);
        let pid = server.child.id();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(kill_after);
            // SIGKILL: no chance to finish anything.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        });
        let mut finished = true;
        'sending: loop {
            let mut sent_any = false;
            for device in &devices {
                let from = receipted.get(&device.session).copied().unwrap_or(0) as usize;
                if from >= device.records.len() {
                    continue;
                }
                sent_any = true;
                let batch = &device.records[from..(from + 4).min(device.records.len())];
                let Ok(reply) = api.try_post_batch(&token, ndjson(batch)).await else {
                    finished = false;
                    break 'sending;
                };
                let receipt =
                    checked_receipt(&reply.json["sessions"][0]["receipt"], &key, &device.records);
                let proven = receipt.entries.iter().map(|e| e.seq).max().unwrap_or(0);
                assert_eq!(proven, receipt.seq, "every record of the batch is proven");
                receipted.insert(device.session.clone(), receipt.seq);
            }
            if !sent_any {
                break;
            }
        }
        killer.join().unwrap();
        server.kill();
        if finished {
            break;
        }
        kills += 1;
        if kills == 25 {
            break;
        }
    }
    assert!(
        kills >= 20,
        "the server was killed mid-ingest only {kills} times"
    );

    // After settling: every record stored once, every chain complete.
    let server = serve(home.path(), data.path());
    let api = Api::new(&server.url);
    for device in &devices {
        let reply = api.post_batch(&token, ndjson(&device.records)).await;
        let s = &reply.json["sessions"][0];
        assert_eq!(
            s["stored"].as_u64().unwrap() + s["already_stored"].as_u64().unwrap(),
            device.records.len() as u64,
            "{}",
            reply.text
        );
        assert_eq!(s["forks"], serde_json::json!([]));
        let receipt = checked_receipt(&s["receipt"], &key, &device.records);
        log.observe(&api, &token, &receipt).await;
        assert_eq!(receipt.seq, device.records.len() as u64);
        assert_eq!(receipt.entries.len(), device.records.len());
    }
    drop(server);
}
