//! The venue relay: candidates' machines sync to a server on the proctor's laptop over the
//! venue LAN; it forwards their records verbatim to the central server when the internet
//! is up. With the uplink cut for the whole exam and restored after (through lost answers
//! and failures), every record reaches the central server exactly once, each with a proof
//! the machine's own bytes verify; the relay shows its backlog meanwhile, and the room's
//! results at the relay are one export.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlexam_relay::RelayTo;
use sqlexam_sync::sync_pass;
use sqlexam_tests::proxy::{Fault, FaultProxy, addr};
use sqlexam_tests::{Api, Machine, Organizer, TestServer, checked_receipt, organizer};

fn machine(org: &Organizer, n: usize, answers: usize) -> Machine {
    let chosen: Vec<(String, String)> = org
        .labelled
        .iter()
        .cycle()
        .skip(n * 2)
        .take(answers)
        .map(|(p, sql, _)| (p.clone(), sql.clone()))
        .collect();
    tokio::task::block_in_place(|| Machine::exam(org, &format!("r-{n:02}"), &chosen))
}

/// Polls the relay's status until `done` holds (at most `limit`); returns it.
async fn relay_status(
    api: &Api,
    token: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let status = api.get(token, "/v1/relay").await;
        assert_eq!(status.status, 200, "{}", status.text);
        if done(&status.json) {
            return status.json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay did not get there in {limit:?}: {}",
            status.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_behind_a_relay_reaches_the_central_server_once_after_the_uplink_returns() {
    let org = organizer(2);
    let central = TestServer::start(&org.trust, 1).await;
    let central_api = Api::new(&central.url);
    central_api.upload(&central.organizer, &org).await;
    // The venue's internet: cut from the start of the exam.
    let uplink = FaultProxy::start(vec![addr(&central.url)], |_| Fault::Reset).await;
    let relay = TestServer::relay(
        &org.trust,
        RelayTo {
            url: uplink.url.clone(),
            token: Some(central.venue.clone()),
        },
    )
    .await;
    let relay_api = Api::new(&relay.url);
    relay_api.upload(&relay.organizer, &org).await;

    // The room syncs to the relay over the LAN, which works.
    let machines: Vec<Machine> = (0..3).map(|n| machine(&org, n, 3)).collect();
    let lan = sqlexam_tests::sync_client(&relay.url, &relay.venue);
    for m in &machines {
        sync_pass(&m.engine, &lan, true, &|_: usize| {})
            .await
            .unwrap();
        assert_eq!(m.engine.sync_counts().unwrap().unsent, 0);
    }
    // More answers later in the exam, synced to the relay too.
    tokio::task::block_in_place(|| {
        machines[0].submit(&[(org.labelled[0].0.clone(), org.labelled[0].1.clone())])
    });
    sync_pass(&machines[0].engine, &lan, true, &|_: usize| {})
        .await
        .unwrap();
    let total: usize = machines
        .iter()
        .map(|m| m.engine.records().unwrap().len())
        .sum();

    // The relay holds the room's backlog and says so; the central server has nothing yet.
    let waiting = relay_status(&relay_api, &relay.organizer, Duration::from_secs(30), |s| {
        s["state"] == "offline" && s["unsent"] == total
    })
    .await;
    assert!(
        waiting["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{waiting}"
    );
    let held = central_api
        .get(
            &central.organizer,
            &format!("/v1/exams/{}/results", org.pack_id),
        )
        .await;
    assert_eq!(
        held.json["candidates"],
        serde_json::json!([]),
        "{}",
        held.text
    );
    // The room's one export: the relay's own results hold every candidate.
    let room = relay_api
        .get(
            &relay.organizer,
            &format!("/v1/exams/{}/results", org.pack_id),
        )
        .await;
    assert_eq!(room.json["candidates"].as_array().unwrap().len(), 3);
    // The proctor sees the backlog on the relay's dashboard.
    {
        use sqlexam_tests::browser::{browser, click, type_in, wait};
        let (_driver, c) = browser().await;
        c.goto(&format!("{}/", relay.url)).await.unwrap();
        type_in(&c, "[data-testid=token]", &relay.organizer).await;
        click(&c, "[data-testid=sign-in]").await;
        click(&c, &format!("[data-testid=exam-{}]", org.pack_id)).await;
        let banner = wait(&c, "[data-testid=relay][data-state=offline]")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            banner.contains(&format!("{total} records waiting to be forwarded")),
            "{banner}"
        );
        c.close().await.unwrap();
    }

    // The uplink returns, flaky at first: answers lost after the server committed, failures.
    let n = Arc::new(AtomicU64::new(0));
    let seen = n.clone();
    uplink.set_plan(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        1 | 4 => Fault::LostAck,
        2 => Fault::Error500,
        _ => Fault::Pass,
    });
    relay_status(&relay_api, &relay.organizer, Duration::from_secs(90), |s| {
        s["state"] == "synced" && s["unsent"] == 0
    })
    .await;
    assert!(n.load(Ordering::SeqCst) > 4, "the faults were met");

    // Every machine's every record is on the central server once, proven against the
    // machine's own bytes: the relay changed nothing.
    let key = central.key;
    for m in &machines {
        let records = m.engine.records().unwrap();
        let held = central_api
            .get(
                &central.venue,
                &format!("/v1/sessions/{}?from=1", m.session),
            )
            .await;
        let receipt = checked_receipt(&held.json["receipt"], &key, &records);
        assert_eq!(receipt.seq, records.len() as u64);
        assert_eq!(receipt.entries.len(), records.len());
    }
    // Each machine, at its next pass through the relay, keeps the central server's
    // receipts too: its store verifies against the central key, every record proven there.
    for m in &machines {
        sync_pass(&m.engine, &lan, true, &|_: usize| {})
            .await
            .unwrap();
        let report =
            sqlexam_core::session::verify_store_receipts(&m.store(), &[key, relay.key]).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert!(
            report.checkpoints.get(&key.key_id()).copied().unwrap_or(0) > 0,
            "{:?}",
            report.checkpoints
        );
        let central_proofs = rusqlite::Connection::open(m.store())
            .unwrap()
            .query_row(
                "SELECT count(*) FROM receipts WHERE server = ?1",
                [key.key_id()],
                |r| r.get::<_, i64>(0),
            )
            .unwrap();
        assert_eq!(
            central_proofs as usize,
            m.engine.records().unwrap().len(),
            "every record proven by the central server"
        );
    }
    let results = central_api
        .wait_regraded(&central.organizer, &org.pack_id, Duration::from_secs(240))
        .await;
    let attempts: u64 = results
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["problems"].as_array().unwrap().iter())
        .map(|p| p["attempts"].as_u64().unwrap())
        .sum();
    assert_eq!(attempts, 3 * 3 + 1, "each submission once");
    assert_eq!(
        central_api
            .flag_kinds(&central.organizer, &org.pack_id)
            .await,
        Vec::<String>::new()
    );
    // The central server knows the sessions came from the venue whose token the relay holds.
    let view = central_api
        .get(
            &central.organizer,
            &format!("/v1/exams/{}/dashboard", org.pack_id),
        )
        .await;
    assert_eq!(view.json["venues"][0]["sessions"], 3, "{}", view.text);

    // The room's one export, from the relay: one bundle of every machine's records, with the
    // central server's proofs the relay holds — which verify against the central key.
    let stick = tempfile::tempdir().unwrap();
    let done = sqlexam_relay::room_export(
        &relay.data_dir,
        &sqlexam_export::machine::Request {
            dir: &relay.data_dir,
            pack: None,
            passphrase: sqlexam_tests::PASSPHRASE,
            venue: "Room 7",
            lang: sqlexam_export::Lang::En,
            out: stick.path(),
            now: "2026-11-30T12:00:00Z",
            pdf: false,
        },
    )
    .unwrap();
    assert_eq!((done.records, done.sessions), (total, 3));
    let file = done
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "sqlexam-bundle"))
        .unwrap();
    let bundle = sqlexam_export::bundle::parse(&std::fs::read(file).unwrap()).unwrap();
    let (manifest, hash) = sqlexam_core::pack::signed_manifest(&org.pack[..]).unwrap();
    let report = sqlexam_export::bundle::verify(
        &bundle,
        &sqlexam_export::bundle::Known {
            pack: Some((hash, manifest.proctor_public_key())),
            server_keys: vec![key],
        },
    );
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.candidates, report.devices), (3, 3));
    assert_eq!(report.servers.len(), 1);
    assert!(report.servers[0].key_trusted);
    assert_eq!(report.servers[0].report.proven, total);
    // Imported at the central server, it adds nothing: every record is already there.
    let again = sqlexam_tests::sync_client(&central.url, &central.venue)
        .post_bundle(std::fs::read(file).unwrap())
        .await
        .unwrap();
    assert!(again.sessions.iter().all(|s| s.stored == 0));
    assert!(
        again.contradictions.is_empty(),
        "{:?}",
        again.contradictions
    );

    // A server that is no relay says so.
    let not = central_api.get(&central.organizer, "/v1/relay").await;
    assert_eq!(not.status, 404);
    relay.stop().await;
    central.stop().await;
}
