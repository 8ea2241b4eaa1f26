//! An exam's records on the central server: verified, stored once, receipted, re-graded in
//! child processes, and every kind of dishonest or broken batch caught by name.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::Expectation;
use sqlexam_core::record::{Event, ProctorAction, SignedRecord};
use sqlexam_tests::{
    Api, Backend, Device, START_CODE, TestServer, checked_receipt, ndjson, organizer, take_exam,
};

use crate::{servers, stop};

/// The receipt of an answer, checked as a device checks it against `records`.
fn receipt_of(
    api_json: &serde_json::Value,
    key: &sqlexam_core::crypto::PublicKey,
    records: &[sqlexam_core::record::SignedRecord],
) -> sqlexam_core::protocol::Receipt {
    checked_receipt(&api_json["receipt"], key, records)
}

fn proven(receipt: &sqlexam_core::protocol::Receipt) -> Vec<u64> {
    receipt.entries.iter().map(|e| e.seq).collect()
}

fn flags(json: &serde_json::Value) -> Vec<(String, u64)> {
    json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn an_exam_on_the_engine_is_stored_once_receipted_and_its_regrade_agrees(backend: Backend) {
    let org = organizer(3);
    // Every labelled submission of three starter problems, as a candidate would send them.
    let answers: Vec<(String, String)> = org
        .labelled
        .iter()
        .map(|(p, sql, _)| (p.clone(), sql.clone()))
        .collect();
    let records = tokio::task::block_in_place(|| take_exam(&org, "c-001", &answers));
    let servers = servers(&backend, &org.trust, 2).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    // The second server process on PostgreSQL (the same one on SQLite).
    let api2 = Api::new(&servers[servers.len() - 1].url);

    let upload = api.upload(&server.organizer, &org).await;
    assert_eq!(upload.json["problems"], 3);

    let first = api.post_batch(&server.venue, ndjson(&records)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let session = &first.json["sessions"][0];
    assert_eq!(session["stored"], records.len() as u64);
    assert_eq!(first.json["rejected"].as_array().unwrap().len(), 0);
    let receipt = receipt_of(session, &server.key, &records);
    assert_eq!(receipt.seq, records.len() as u64);
    assert_eq!(
        proven(&receipt),
        (1..=records.len() as u64).collect::<Vec<_>>(),
        "every record is proven in the server's log"
    );

    // The same batch again (a lost acknowledgement, a second export): nothing new.
    let again = api2.post_batch(&server.venue, ndjson(&records)).await;
    assert_eq!(again.json["sessions"][0]["stored"], 0);
    assert_eq!(
        again.json["sessions"][0]["already_stored"],
        records.len() as u64
    );
    assert_eq!(
        proven(&receipt_of(
            &again.json["sessions"][0],
            &server.key,
            &records
        ))
        .len(),
        records.len(),
        "a resend is proven again"
    );
    let held = api2
        .get(
            &server.venue,
            &format!("/v1/sessions/{}?from=2", receipt.session),
        )
        .await;
    let held = receipt_of(&held.json, &server.key, &records);
    assert_eq!(held.seq, receipt.seq);
    assert_eq!(
        proven(&held),
        (2..=records.len() as u64).collect::<Vec<_>>(),
        "asked from seq 2, proven from seq 2"
    );

    let results = api
        .wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(240))
        .await;
    let flagged = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/flags", org.pack_id),
        )
        .await;
    assert_eq!(
        flags(&flagged.json),
        vec![],
        "honest records agree 100 %: {}",
        flagged.text
    );
    // Each problem has an accepted labelled submission: full marks on all three.
    let candidate = &results[0];
    let full: u64 = org.problems.iter().map(|p| u64::from(p.points)).sum();
    assert_eq!(candidate["candidate"], "c-001");
    assert_eq!(candidate["total"].as_u64().unwrap(), full, "{candidate}");
    let labelled_per_problem = org
        .labelled
        .iter()
        .filter(|(p, _, _)| *p == org.problems[0].id)
        .count() as u64;
    assert_eq!(
        candidate["problems"][0]["attempts"].as_u64().unwrap(),
        labelled_per_problem
    );
    assert!(
        org.labelled
            .iter()
            .any(|(_, _, e)| *e != Expectation::Accepted)
    );

    let csv = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/results.csv", org.pack_id),
        )
        .await;
    assert!(
        csv.text
            .starts_with("\u{feff}Candidate ID,Name,Venue,Problem,Score"),
        "{}",
        csv.text
    );
    // A row per problem and the candidate's total.
    assert_eq!(csv.text.lines().count(), 1 + 3 + 1, "{}", csv.text);
    let csv_ja = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/results.csv?lang=ja", org.pack_id),
        )
        .await;
    assert!(
        csv_ja.text.starts_with("\u{feff}受験者ID,氏名"),
        "{}",
        csv_ja.text
    );
    let xlsx = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/results.xlsx", org.pack_id),
        )
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.text.starts_with("PK"), "a zip (the workbook)");
    stop(servers).await;
}

async fn forged_replayed_reordered_gapped_and_forked_records_are_caught_by_name(backend: Backend) {
    let org = organizer(1);
    let problem = &org.problems[0];
    let good = org.answer(0, Expectation::Accepted);
    let wrong = org.answer(0, Expectation::WrongAnswer);
    let servers = servers(&backend, &org.trust, 1).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    // The second server process on PostgreSQL (the same one on SQLite).
    let api2 = Api::new(&servers[servers.len() - 1].url);
    api.upload(&server.organizer, &org).await;

    let mut device = Device::new(&org, "s-forge", "c-002");
    device.start();
    device.push(Device::honest(problem, 1, &wrong));
    device.push(Device::honest(problem, 2, &good));
    // A forged "accepted": signed by the device key (a candidate can read it), so it
    // verifies; only the re-grade can tell.
    device.push(Device::submission(
        problem,
        3,
        &wrong,
        Verdict::Accepted,
        problem.points,
    ));
    // Reordered within the batch: the server orders by seq.
    let mut reordered = device.records.clone();
    reordered.reverse();
    let posted = api.post_batch(&server.venue, ndjson(&reordered)).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    assert_eq!(posted.json["sessions"][0]["stored"], 4);

    // Signed by another key, naming this device: refused, not stored.
    let mut impostor = Device::new(&org, "s-forge", "c-002");
    impostor.key = sqlexam_core::crypto::SigningKey::generate().unwrap();
    let mut forged = impostor.sign(5, device.head(), Device::honest(problem, 4, &good));
    let mut record: serde_json::Value = serde_json::from_slice(&forged.bytes).unwrap();
    record["device"] = serde_json::Value::String(device.key.public().key_id());
    forged.bytes = serde_json::to_vec(&record).unwrap();
    // A record of another session, edited to name this one: its signature breaks.
    let mut other = Device::new(&org, "s-other", "c-003");
    let other_start = other.start();
    let mut replayed = other.push(Device::honest(problem, 1, &good));
    replayed.bytes = String::from_utf8(replayed.bytes)
        .unwrap()
        .replace("s-other", "s-forge")
        .into_bytes();
    let refused = api2
        .post_batch(&server.venue, ndjson(&[forged, replayed]))
        .await;
    let codes: Vec<&str> = refused.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["bad_signature", "bad_signature"],
        "{}",
        refused.text
    );
    assert_eq!(refused.json["sessions"][0]["stored"], 0);

    // A first record whose signature does not verify creates no session, and the records
    // after it are not held for it.
    let mut liar = Device::new(&org, "s-liar", "c-006");
    let mut start = liar.start();
    start.signature = sqlexam_core::crypto::SigningKey::generate()
        .unwrap()
        .sign(sqlexam_core::record::RECORD_DOMAIN, &start.bytes)
        .to_vec();
    let next = liar.push(Device::honest(problem, 1, &good));
    let refused = api.post_batch(&server.venue, ndjson(&[start, next])).await;
    let codes: Vec<&str> = refused.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["bad_signature", "missing_start"],
        "{}",
        refused.text
    );
    assert_eq!(refused.json["sessions"], serde_json::json!([]));
    let held = api.get(&server.venue, "/v1/sessions/s-liar").await;
    let held = receipt_of(&held.json, &server.key, &[]);
    assert_eq!((held.seq, held.entries.len()), (0, 0));

    // A gap: seq 6 before seq 5 is held back, reported, and applied once 5 arrives.
    let five = device.push(Device::honest(problem, 4, &good));
    let six = device.push(Event::SessionEnded {
        reason: "finished".into(),
    });
    let gapped = api2.post_batch(&server.venue, ndjson(&[six])).await;
    let s = &gapped.json["sessions"][0];
    assert_eq!(
        (s["stored"].as_u64(), s["gap"].clone()),
        (Some(0), serde_json::json!([5, 5]))
    );
    let listed = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/flags", org.pack_id),
        )
        .await;
    assert_eq!(
        listed.json["gaps"],
        serde_json::json!([{"session": "s-forge", "from": 5, "to": 5}]),
        "an open gap is listed for the organizer"
    );
    let r = receipt_of(s, &server.key, &device.records);
    assert_eq!(
        (r.seq, proven(&r)),
        (4, vec![]),
        "the receipt stops at the gap and proves nothing held back"
    );
    let filled = api.post_batch(&server.venue, ndjson(&[five])).await;
    let s = &filled.json["sessions"][0];
    assert_eq!(s["stored"], 2);
    let r = receipt_of(s, &server.key, &device.records);
    assert_eq!((r.seq, proven(&r)), (6, vec![5, 6]));

    // A different record at a receipted seq (a rolled-back store writing again): kept as
    // evidence, flagged, the chain untouched.
    let fork = device.sign(
        3,
        device.records[1].hash(),
        Device::honest(problem, 9, &good),
    );
    let forked = api2.post_batch(&server.venue, ndjson(&[fork])).await;
    assert_eq!(forked.json["sessions"][0]["forks"], serde_json::json!([3]));
    let r = receipt_of(&forked.json["sessions"][0], &server.key, &device.records);
    assert_eq!(
        (r.seq, proven(&r)),
        (6, vec![3, 4, 5, 6]),
        "the proofs are of the records held, not of the fork"
    );

    // A proctor action without the proctor's proof, on another session.
    other.push(Event::Proctor {
        action: ProctorAction::Extend { minutes: 10 },
        proof: None,
    });
    let mut others = vec![other_start];
    others.extend(other.records[1..].iter().cloned());
    let posted = api.post_batch(&server.venue, ndjson(&others)).await;
    assert_eq!(posted.json["sessions"][0]["stored"], 3, "{}", posted.text);

    api.wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(120))
        .await;
    let flagged = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/flags", org.pack_id),
        )
        .await;
    let mut found = flags(&flagged.json);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("disagreement".to_string(), 4),
            ("proctor_unproven".to_string(), 3),
            ("rollback".to_string(), 3),
        ],
        "{}",
        flagged.text
    );
    stop(servers).await;
}

async fn bad_input_gets_a_clear_4xx_with_a_json_error_and_stores_nothing(backend: Backend) {
    let org = organizer(1);
    let servers = servers(&backend, &org.trust, 0).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    // The second server process on PostgreSQL (the same one on SQLite).
    let api2 = Api::new(&servers[servers.len() - 1].url);
    let mut device = Device::new(&org, "s-bad", "c-004");
    let start = device.start();
    let line = ndjson(std::slice::from_ref(&start));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "not JSON",
            format!("{line}{{not json\n"),
            400,
            "malformed_line",
        ),
        (
            "an unknown field",
            format!(
                "{line}{}\n",
                line.trim_end().replacen('{', "{\"extra\":1,", 1)
            ),
            400,
            "malformed_line",
        ),
        (
            "bytes that are not a record",
            "{\"bytes\":\"{}\",\"signature\":\"00\"}\n".into(),
            400,
            "malformed_line",
        ),
        ("an empty batch", "\n\n".into(), 400, "empty_batch"),
    ];
    for (what, body, status, code) in cases {
        let reply = api.post_batch(&server.venue, body).await;
        assert_eq!(
            (reply.status, reply.json["code"].as_str()),
            (status, Some(code)),
            "{what}: {}",
            reply.text
        );
        assert!(
            !reply.json["message"].as_str().unwrap().is_empty(),
            "{what}"
        );
    }
    let reply = api
        .post_batch(&server.venue, format!("{line}{{not json\n"))
        .await;
    assert_eq!(reply.json["line"], 2, "the line is named: {}", reply.text);

    let http = api.raw();
    let url = format!("{}/v1/records", server.url);
    let wrong_type = api
        .send(
            http.post(&url)
                .bearer_auth(&server.venue)
                .header("content-type", "text/plain")
                .body(line.clone()),
        )
        .await;
    assert_eq!(
        (wrong_type.status, wrong_type.json["code"].as_str()),
        (415, Some("content_type"))
    );
    let no_token = api
        .send(
            http.post(&url)
                .header("content-type", "application/x-ndjson")
                .body(line.clone()),
        )
        .await;
    assert_eq!(
        (no_token.status, no_token.json["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let bad_token = api2.post_batch("sqx_0000", line.clone()).await;
    assert_eq!(bad_token.status, 401);
    let venue_on_results = api
        .get(&server.venue, &format!("/v1/exams/{}/results", org.pack_id))
        .await;
    assert_eq!(
        (
            venue_on_results.status,
            venue_on_results.json["code"].as_str()
        ),
        (403, Some("forbidden"))
    );
    let huge = api
        .post_batch(
            &server.venue,
            "x".repeat(sqlexam_server::http::MAX_BATCH_BYTES + 1),
        )
        .await;
    assert_eq!(
        (huge.status, huge.json["code"].as_str()),
        (413, Some("too_large")),
        "{}",
        huge.text
    );
    let wrong_method = api.send(http.delete(&url).bearer_auth(&server.venue)).await;
    assert_eq!(
        (wrong_method.status, wrong_method.json["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let unknown = api.get(&server.venue, "/v1/nothing").await;
    assert_eq!(
        (unknown.status, unknown.json["code"].as_str()),
        (404, Some("not_found"))
    );

    // A pack that is not signed by a trusted key, and one without its start code.
    let stranger = organizer(1);
    let untrusted = api
        .put_pack(
            &server.organizer,
            &org.pack_id,
            &stranger.pack,
            Some(START_CODE),
        )
        .await;
    assert_eq!(
        (untrusted.status, untrusted.json["code"].as_str()),
        (422, Some("untrusted_key")),
        "{}",
        untrusted.text
    );
    let sealed = api
        .put_pack(&server.organizer, &org.pack_id, &org.pack, None)
        .await;
    assert_eq!(
        (sealed.status, sealed.json["code"].as_str()),
        (422, Some("sealed")),
        "{}",
        sealed.text
    );
    let wrong_code = api
        .put_pack(
            &server.organizer,
            &org.pack_id,
            &org.pack,
            Some("AAAA-BBBB-CCCC-DDDD"),
        )
        .await;
    assert_eq!(wrong_code.json["code"], "wrong_start_code");

    // One device sending faster than a device can: 429 with the seconds to wait.
    let mut fast = Device::new(&org, "s-fast", "c-005");
    fast.start();
    let body = ndjson(&fast.records);
    let mut limited = None;
    for _ in 0..100 {
        let reply = api.post_batch(&server.venue, body.clone()).await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("a device is rate limited");
    assert_eq!(limited.json["code"], "rate_limited");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");

    let counts = server.store.counts().await.unwrap();
    assert_eq!(
        (counts.records, counts.sessions),
        (1, 1),
        "nothing stored but the rate-limited device's first record, once"
    );
    assert!(server.store.exams().await.unwrap().is_empty());
    let _ = SignedRecord::hash;
    stop(servers).await;
}

async fn records_before_their_pack_wait_and_a_pack_is_taken_ahead_of_its_window(backend: Backend) {
    let org = organizer(1);
    let problem = &org.problems[0];
    let good = org.answer(0, Expectation::Accepted);
    let servers = servers(&backend, &org.trust, 1).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    // A venue syncs before the organizer uploaded the pack.
    let mut device = Device::new(&org, "s-early", "c-007");
    device.start();
    device.push(Device::honest(problem, 1, &good));
    let posted = api.post_batch(&server.venue, ndjson(&device.records)).await;
    assert_eq!(posted.json["sessions"][0]["stored"], 2);
    let flags_of = || {
        let api = Api::new(&server.url);
        let token = server.organizer.clone();
        let exam = org.pack_id.clone();
        async move {
            api.get(&token, &format!("/v1/exams/{exam}/flags"))
                .await
                .json
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while flags(&flags_of().await) != vec![("ungradable".to_string(), 2)] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            flags_of().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The organizer uploads a pack whose window opens tomorrow: taken (an upload ahead of
    // the exam is the normal case), and a version 1.1 of the same exam the day after.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let ahead = sqlexam_core::pack::build(
        &org.pack_id,
        &semver::Version::new(9, 0, 0),
        &sqlexam_core::problem::Localized {
            en: "Ahead".into(),
            ja: "先".into(),
        },
        &org.problems,
        &sqlexam_core::pack::BuildOptions {
            key: &org.key,
            endorsements: Vec::new(),
            start_code: Some(START_CODE.into()),
            exam: sqlexam_core::problem::ExamRules {
                duration_ms: 3_600_000,
                while_closed: sqlexam_core::problem::WhileClosed::Running,
            },
            proctor_passphrase: None,
            roster: None,
            created: later,
            not_before: later,
            not_after: later + time::Duration::days(1),
        },
    )
    .unwrap();
    let upload = api
        .put_pack(&server.organizer, &org.pack_id, &ahead, Some(START_CODE))
        .await;
    assert_eq!(upload.status, 200, "{}", upload.text);

    // The session's own pack arrives: its waiting submission is graded, the flag withdrawn.
    api.upload(&server.organizer, &org).await;
    let results = api
        .wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(60))
        .await;
    assert_eq!(results[0]["problems"][0]["ungradable"], 0, "{results}");
    assert_eq!(
        results[0]["total"].as_u64(),
        Some(u64::from(problem.points))
    );
    assert_eq!(flags(&flags_of().await), vec![]);
    stop(servers).await;
}

on_both_backends!(
    records_before_their_pack_wait_and_a_pack_is_taken_ahead_of_its_window,
    records_wait_for_their_pack_on_sqlite,
    records_wait_for_their_pack_on_postgres_with_two_servers
);
on_both_backends!(
    an_exam_on_the_engine_is_stored_once_receipted_and_its_regrade_agrees,
    an_exam_is_stored_once_and_agrees_on_sqlite,
    an_exam_is_stored_once_and_agrees_on_postgres_with_two_servers
);
on_both_backends!(
    forged_replayed_reordered_gapped_and_forked_records_are_caught_by_name,
    dishonest_batches_are_caught_on_sqlite,
    dishonest_batches_are_caught_on_postgres_with_two_servers
);
on_both_backends!(
    bad_input_gets_a_clear_4xx_with_a_json_error_and_stores_nothing,
    bad_input_stores_nothing_on_sqlite,
    bad_input_stores_nothing_on_postgres_with_two_servers
);

/// Deletes every row of `session` from the server's tables, leaving its log alone (an
/// operator's mistake, or a restore of the tables without the log).
async fn forget_session(backend: &Backend, server: &TestServer, session: &str) {
    let tables = [
        "submissions",
        "jobs",
        "records",
        "pending",
        "evidence",
        "flags",
    ];
    match backend {
        Backend::Sqlite => {
            let db = rusqlite::Connection::open(server.data_dir.join("server.sqlite")).unwrap();
            for table in tables {
                db.execute(
                    &format!("DELETE FROM {table} WHERE session = ?1"),
                    [session],
                )
                .unwrap();
            }
            db.execute("DELETE FROM sessions WHERE id = ?1", [session])
                .unwrap();
        }
        Backend::Postgres(url) => {
            let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            for table in tables {
                db.execute(
                    &format!("DELETE FROM {table} WHERE session = $1"),
                    &[&session],
                )
                .await
                .unwrap();
            }
            db.execute("DELETE FROM sessions WHERE id = $1", &[&session])
                .await
                .unwrap();
        }
    }
}

async fn log_size(api: &Api, token: &str, key: &sqlexam_core::crypto::PublicKey) -> u64 {
    let head = api.get(token, "/v1/log/checkpoint").await;
    let note = head.json["checkpoint"].as_str().unwrap().to_owned();
    sqlexam_core::tlog::open_checkpoint(&note, key)
        .unwrap()
        .size
}

async fn a_record_the_log_holds_is_never_appended_again(backend: Backend) {
    let org = organizer(1);
    let server = TestServer::launch(&backend, &org.trust, 0, None).await;
    let api = Api::new(&server.url);
    let problem = &org.problems[0];
    let mut kept = Device::new(&org, "s-kept", "c-kept");
    kept.start();
    let mut lost = Device::new(&org, "s-lost", "c-lost");
    lost.start();
    for d in [&mut kept, &mut lost] {
        d.push(Device::honest(problem, 1, "SELECT 1"));
        let reply = api.post_batch(&server.venue, ndjson(&d.records)).await;
        assert_eq!(reply.json["sessions"][0]["stored"], 2, "{}", reply.text);
    }
    let before = log_size(&api, &server.venue, &server.key).await;
    assert_eq!(before, 4);
    // The tables lose one session; the log keeps its records. The device (or a proctor's
    // bundle) sends them again: they are stored again, proven at their old leaves, and
    // the log does not grow.
    let clean = audit(&backend, &server);
    assert_eq!(clean.0, Some(0), "{}", clean.1);
    assert!(
        clean.1.contains("4 leaves, 2 sessions, 4 records checked"),
        "{}",
        clean.1
    );
    forget_session(&backend, &server, "s-lost").await;
    // The audit names what the tables lost.
    let (code, said) = audit(&backend, &server);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("THE TABLES DIFFER FROM THE LOG"), "{said}");
    assert_eq!(said.matches("FOUND: leaf").count(), 2, "{said}");
    let again = api.post_batch(&server.venue, ndjson(&lost.records)).await;
    assert_eq!(again.json["sessions"][0]["stored"], 2, "{}", again.text);
    let receipt = receipt_of(&again.json["sessions"][0], &server.key, &lost.records);
    assert_eq!(proven(&receipt), vec![1, 2]);
    assert_eq!(log_size(&api, &server.venue, &server.key).await, before);
    let (code, said) = audit(&backend, &server);
    assert_eq!(code, Some(0), "the tables whole again: {said}");
    // A score changed in the tables, not in the records: named.
    tamper(
        &backend,
        &server,
        "UPDATE submissions SET device_score = 100",
    )
    .await;
    let (code, said) = audit(&backend, &server);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("session s-kept, seq 2: the submission row says") && said.contains("100/"),
        "{said}"
    );
    server.stop().await;
}

/// `sqlexam serve --audit` on `server`'s store: exit code and output.
fn audit(backend: &Backend, server: &TestServer) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(sqlexam_tests::sqlexam_bin());
    command
        .args(["serve", "--audit"])
        .env("SQLEXAM_HOME", home.path());
    match backend {
        Backend::Sqlite => command.arg("--data").arg(&server.data_dir),
        Backend::Postgres(url) => command.args(["--database", url]),
    };
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs `sql` on `server`'s database behind its back.
async fn tamper(backend: &Backend, server: &TestServer, sql: &str) {
    match backend {
        Backend::Sqlite => {
            rusqlite::Connection::open(server.data_dir.join("server.sqlite"))
                .unwrap()
                .execute(sql, [])
                .unwrap();
        }
        Backend::Postgres(url) => {
            let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            db.execute(sql, &[]).await.unwrap();
        }
    }
}

on_both_backends!(
    a_record_the_log_holds_is_never_appended_again,
    a_record_the_log_holds_is_never_appended_again_on_sqlite,
    a_record_the_log_holds_is_never_appended_again_on_postgres
);
