//! What the server publishes is what it proved: the attacks of a candidate who holds the
//! venue token and makes a fresh device key — a problem not in the pack, another pack, a
//! second session for someone else, an inflated maximum, a 100-hour exam, a forged
//! extension — are flagged and count nothing in the results JSON, CSV, XLSX and the CLICS
//! scoreboard, while the honest candidates' totals, maximums and solved counts stay as the
//! pack and the re-grade make them; an organizer's logged decision settles a withheld
//! session.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::time::Duration;

use std::sync::Arc;

use serde_json::Value;
use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::Expectation;
use sqlexam_core::record::{Event, ProctorAction};
use sqlexam_core::session::{Engine, SystemClock};
use sqlexam_sync::sync_pass;
use sqlexam_tests::{Api, Backend, Device, Machine, PASSPHRASE, ndjson, organizer, sync_client};

use crate::{servers, stop};

/// `event` (a submission) as if submitted at `ms` of exam time.
fn at(event: Event, ms: u64) -> Event {
    match event {
        Event::Submission {
            submission_id,
            problem,
            sql,
            verdict,
            score,
            max_score,
            groups,
            datasets,
            grader_version,
            sqlite_version,
            grading_ms,
            ..
        } => Event::Submission {
            submission_id,
            submitted_elapsed_ms: ms,
            problem,
            sql,
            verdict,
            score,
            max_score,
            groups,
            datasets,
            grader_version,
            sqlite_version,
            grading_ms,
        },
        other => other,
    }
}

fn candidate<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["candidate"] == id)
        .unwrap_or_else(|| panic!("no candidate {id} in {results}"))
}

fn withheld(c: &Value) -> Vec<(String, Vec<String>)> {
    c["withheld"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|w| {
                    (
                        w["session"].as_str().unwrap().to_owned(),
                        w["reasons"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|r| r.as_str().unwrap().to_owned())
                            .collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn incident_kinds(c: &Value) -> Vec<String> {
    c["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The CSV's total rows: candidate → (total, max total).
fn csv_totals(csv: &str) -> Vec<(String, u64, u64)> {
    csv.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f.get(3) == Some(&"(total)")).then(|| {
                (
                    f[0].trim_start_matches('\u{feff}').to_owned(),
                    f[4].parse().unwrap(),
                    f[5].parse().unwrap(),
                )
            })
        })
        .collect()
}

async fn what_counts_is_what_the_server_proved(backend: Backend) {
    let org = organizer(3);
    let p = &org.problems;
    let good = |i: usize| org.answer(i, Expectation::Accepted);
    let pack_max: u64 = p.iter().map(|p| u64::from(p.points)).sum();
    let servers = servers(&backend, &org.trust, 1).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    api.upload(&server.organizer, &org).await;

    // Two honest candidates; one is interrupted, resumed and given 10 minutes by a proctor.
    let mut alice = Device::new(&org, "s-alice", "c-alice");
    alice.start();
    alice.push(Device::honest(&p[0], 1, &good(0)));
    alice.push(Event::Interrupted {
        cause: "stopped".into(),
    });
    alice.proctor(&org, ProctorAction::Resume);
    alice.proctor(&org, ProctorAction::Extend { minutes: 10 });
    alice.push(Device::honest(&p[1], 2, &good(1)));
    alice.push(Event::SessionEnded {
        reason: "finished".into(),
    });
    let mut bob = Device::new(&org, "s-bob", "c-bob");
    bob.start();
    bob.push(Device::honest(&p[0], 1, &good(0)));

    // The attacks, each with the venue token and a fresh device key.
    // A problem the pack does not have, claiming 5000/5000.
    let mut ghost = Device::new(&org, "s-ghost", "c-ghost");
    ghost.start();
    let mut not_in_pack = p[0].clone();
    not_in_pack.id = "p99-ghost".into();
    not_in_pack.points = 5000;
    ghost.push(Device::submission(
        &not_in_pack,
        1,
        "SELECT 1",
        Verdict::Accepted,
        5000,
    ));
    // A session on another pack, claiming a correct answer.
    let mut other_pack = Device::new(&org, "s-other-pack", "c-other-pack");
    other_pack.pack.hash = "ab".repeat(32);
    other_pack.start();
    other_pack.push(Device::honest(&p[0], 1, &good(0)));
    // A second session for alice, from another machine, with a correct answer she lacks.
    let mut impostor = Device::new(&org, "s-impostor", "c-alice");
    impostor.start();
    impostor.push(Device::honest(&p[2], 1, &good(2)));
    // One record claiming a maximum of 100000.
    let mut inflated = Device::new(&org, "s-inflated", "c-inflated");
    inflated.start();
    let mut huge = p[0].clone();
    huge.points = 100_000;
    inflated.push(Device::submission(
        &huge,
        1,
        &good(0),
        Verdict::Accepted,
        100_000,
    ));
    // A session claiming a 100-hour exam, answering after the pack's time.
    let mut long = Device::new(&org, "s-long", "c-long");
    long.duration_ms = 100 * 3_600_000;
    long.start();
    long.push(at(
        Device::honest(&p[0], 1, &good(0)),
        org.duration_ms + 3_600_000,
    ));
    // A forged 600-minute extension (no proctor signature), then a late answer.
    let mut extended = Device::new(&org, "s-extended", "c-extended");
    extended.start();
    extended.push(Event::Proctor {
        action: ProctorAction::Extend { minutes: 600 },
        proof: None,
    });
    extended.push(at(
        Device::honest(&p[0], 2, &good(0)),
        org.duration_ms + 60_000,
    ));

    let all: Vec<_> = [
        &alice,
        &bob,
        &ghost,
        &other_pack,
        &impostor,
        &inflated,
        &long,
        &extended,
    ]
    .iter()
    .flat_map(|d| d.records.clone())
    .collect();
    let posted = api.post_batch(&server.venue, ndjson(&all)).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    api.wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(120))
        .await;
    let exam = &org.pack_id;
    let results = api
        .get(&server.organizer, &format!("/v1/exams/{exam}/results"))
        .await
        .json;

    // The columns and maximums are the pack's, with its titles.
    let columns: Vec<(&str, u64)> = results["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["max_score"].as_u64().unwrap()))
        .collect();
    let expected: Vec<(&str, u64)> = p
        .iter()
        .map(|p| (p.id.as_str(), u64::from(p.points)))
        .collect();
    assert_eq!(columns, expected, "{results}");
    assert_eq!(results["problems"][0]["title"]["en"], p[0].title.en);
    for c in results["candidates"].as_array().unwrap() {
        assert_eq!(c["max_total"], pack_max, "{c}");
    }

    // Honest candidates: what the re-grade proved, and what their records say happened.
    let a = candidate(&results, "c-alice");
    let honest_alice = u64::from(p[0].points + p[1].points);
    assert_eq!(a["total"], honest_alice, "{a}");
    assert_eq!(a["solved"], 2);
    assert_eq!(a["counted"], true);
    assert_eq!(
        withheld(a),
        vec![("s-impostor".to_owned(), vec!["second_session".to_owned()])]
    );
    assert_eq!(a["ended"], "finished");
    assert_eq!(a["elapsed_ms"], 7000, "the last record's exam time");
    let kinds = incident_kinds(a);
    for kind in ["interrupted", "resumed", "extended", "second_session"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }
    let b = candidate(&results, "c-bob");
    assert_eq!(b["total"], u64::from(p[0].points));
    assert_eq!(b["solved"], 1);

    // The attacks: nothing they claimed counts.
    let g = candidate(&results, "c-ghost");
    assert_eq!(g["total"], 0, "{g}");
    assert!(incident_kinds(g).contains(&"ungradable".to_owned()), "{g}");
    for (id, reasons) in [
        ("c-other-pack", vec!["wrong_pack"]),
        ("c-long", vec!["over_duration"]),
        ("c-extended", vec!["proctor_unproven", "over_duration"]),
    ] {
        let c = candidate(&results, id);
        assert_eq!(c["total"], 0, "{c}");
        assert_eq!(c["counted"], false, "{c}");
        let session = c["sessions"][0].as_str().unwrap().to_owned();
        assert_eq!(
            withheld(c),
            vec![(session, reasons.iter().map(|r| r.to_string()).collect())]
        );
    }
    let x = candidate(&results, "c-extended");
    let kinds = incident_kinds(x);
    assert!(kinds.contains(&"proctor_unproven".to_owned()), "{kinds:?}");
    assert!(
        !kinds.contains(&"extended".to_owned()),
        "a forged extension is never shown as one: {kinds:?}"
    );
    let i = candidate(&results, "c-inflated");
    assert_eq!(i["total"], u64::from(p[0].points), "the server's re-grade");
    assert_eq!(i["problems"][0]["claimed"], 100_000);

    // The same in the CSV, the workbook and the CLICS scoreboard.
    let csv = api
        .get(&server.organizer, &format!("/v1/exams/{exam}/results.csv"))
        .await
        .text;
    let totals = csv_totals(&csv);
    assert!(
        totals.contains(&("c-alice".into(), honest_alice, pack_max)),
        "{csv}"
    );
    for (id, total, max) in &totals {
        assert_eq!(*max, pack_max, "{id}: {csv}");
        if id != "c-alice" {
            assert!(*total <= u64::from(p[0].points), "{id}: {csv}");
        }
    }
    let xlsx = api
        .raw()
        .get(format!("{}/v1/exams/{exam}/results.xlsx", server.url))
        .bearer_auth(&server.organizer)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(
        strings.contains("s-impostor: a second session for the candidate"),
        "{strings}"
    );
    assert!(strings.contains("Time extended"), "alice's incident sheet");
    let board = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{exam}/scoreboard.json"),
        )
        .await
        .json;
    let ranked: Vec<&str> = board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["team_id"].as_str().unwrap())
        .collect();
    assert_eq!(ranked[0], "c-alice", "{board}");
    for out in ["c-other-pack", "c-long", "c-extended"] {
        assert!(!ranked.contains(&out), "{out} ranks: {board}");
    }

    // The organizer decides: the second session was a move to a spare machine.
    let decide = |token: &str, session: &str, body: Value| {
        let request = api
            .raw()
            .post(format!(
                "{}/v1/exams/{exam}/sessions/{session}/decision",
                server.url
            ))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        api.send(request)
    };
    let no_note = decide(
        &server.organizer,
        "s-impostor",
        serde_json::json!({"count": true, "note": " "}),
    )
    .await;
    assert_eq!(
        (no_note.status, no_note.json["code"].as_str()),
        (400, Some("note_missing"))
    );
    let venue = decide(
        &server.venue,
        "s-impostor",
        serde_json::json!({"count": true, "note": "mine"}),
    )
    .await;
    assert_eq!(venue.status, 403, "a venue token cannot decide");
    let unknown = decide(
        &server.organizer,
        "s-nowhere",
        serde_json::json!({"count": true, "note": "?"}),
    )
    .await;
    assert_eq!(unknown.status, 404);
    // Every server process sees the decision (two on PostgreSQL).
    let decided = decide(
        &server.organizer,
        "s-impostor",
        serde_json::json!({"count": true, "note": "moved to a spare machine at 10:12"}),
    )
    .await;
    assert_eq!(decided.status, 200, "{}", decided.text);
    let last = servers.last().unwrap();
    let results = Api::new(&last.url)
        .get(&last.organizer, &format!("/v1/exams/{exam}/results"))
        .await
        .json;
    let a = candidate(&results, "c-alice");
    assert_eq!(a["total"], pack_max, "both sessions count: {a}");
    assert!(withheld(a).is_empty());
    assert!(incident_kinds(a).contains(&"organizer_counted".to_owned()));
    let flags = api
        .get(&server.organizer, &format!("/v1/exams/{exam}/flags"))
        .await
        .json;
    assert_eq!(
        flags["decisions"][0]["note"],
        "moved to a spare machine at 10:12"
    );
    // And changes their mind: the newest decision holds.
    decide(
        &server.organizer,
        "s-impostor",
        serde_json::json!({"count": false, "note": "not a spare machine after all"}),
    )
    .await;
    let results = api
        .get(&server.organizer, &format!("/v1/exams/{exam}/results"))
        .await
        .json;
    let a = candidate(&results, "c-alice");
    assert_eq!(a["total"], honest_alice);
    assert_eq!(
        withheld(a),
        vec![(
            "s-impostor".to_owned(),
            vec!["excluded_by_organizer".to_owned()]
        )]
    );
    stop(servers).await;
}

async fn a_machine_restored_from_an_older_copy_still_sends_and_is_flagged(backend: Backend) {
    let org = organizer(2);
    let servers = servers(&backend, &org.trust, 0).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    api.upload(&server.organizer, &org).await;
    let client = sync_client(&server.url, &server.venue);
    let answer = |p: usize| {
        (
            org.problems[p].id.clone(),
            org.answer(p, Expectation::Accepted),
        )
    };
    let m = tokio::task::block_in_place(|| Machine::exam(&org, "c-7", &[answer(0)]));
    sync_pass(&m.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    // A copy of the machine's store as it is now; the exam goes on and syncs.
    let older = m.dir.path().join("older.sqlite");
    rusqlite::Connection::open(m.store())
        .unwrap()
        .execute("VACUUM INTO ?1", [older.to_str().unwrap()])
        .unwrap();
    tokio::task::block_in_place(|| m.submit(&[answer(1)]));
    sync_pass(&m.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();

    // The older copy is put back, and the machine carries on from it.
    let Machine {
        engine,
        session,
        dir,
    } = m;
    drop(engine);
    let store = sqlexam_core::session::store_path(dir.path());
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", store.display()));
    }
    std::fs::copy(&older, &store).unwrap();
    let engine = Engine::open(
        dir.path(),
        org.trust.clone(),
        Arc::new(SystemClock::default()),
    )
    .unwrap();
    let _paused = engine.proctor(&session, PASSPHRASE, ProctorAction::Resume);
    let m = Machine {
        engine,
        session,
        dir,
    };
    tokio::task::block_in_place(|| m.submit(&[answer(1)]));

    // It still sends what it has, and says the server holds another history.
    let refused = sync_pass(&m.engine, &client, true, &|_: usize| {})
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("older copy"), "{refused}");
    assert!(
        m.engine.sync_counts().unwrap().unsent > 0,
        "nothing counts as synced"
    );
    // The server kept the records as evidence, flagged the rollback, and the session counts
    // nothing until an organizer decides.
    let kinds = api.flag_kinds(&server.organizer, &org.pack_id).await;
    assert!(kinds.contains(&"rollback".to_owned()), "{kinds:?}");
    let results = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/results", org.pack_id),
        )
        .await
        .json;
    let c = candidate(&results, "c-7");
    assert_eq!(c["counted"], false, "{c}");
    assert!(withheld(c)[0].1.contains(&"rollback".to_owned()), "{c}");
    drop(m);
    stop(servers).await;
}

on_both_backends!(
    a_machine_restored_from_an_older_copy_still_sends_and_is_flagged,
    a_machine_restored_from_an_older_copy_still_sends_and_is_flagged_on_sqlite,
    a_machine_restored_from_an_older_copy_still_sends_and_is_flagged_on_postgres
);

on_both_backends!(
    what_counts_is_what_the_server_proved,
    what_counts_is_what_the_server_proved_on_sqlite,
    what_counts_is_what_the_server_proved_on_postgres
);

/// `sqlexam serve ARGS`: its exit status and what it said, if it stopped within 30 s (it
/// must: it refuses the database); panics if it went on serving.
fn serve_refused(home: &std::path::Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(sqlexam_tests::sqlexam_bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("SQLEXAM_HOME", home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server served a database restored from an older backup");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The server's data folder restored from a backup older than a machine's last sync: the
/// server refuses to serve it, naming both sizes; served anyway, the fully synced machine
/// reports it (`session sync` and `receipt verify --server` exit 1, naming both checkpoints).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_an_older_backup_is_refused_and_caught_by_a_synced_machine() {
    use std::ffi::OsStr as os;
    let org = organizer(2);
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let storage = [os::new("--data"), data.path().as_os_str()];
    let venue = sqlexam_tests::create_token(home.path(), "venue", &storage);
    let args = [os::new("--workers"), os::new("0"), storage[0], storage[1]];
    let mut server = sqlexam_tests::ServeProcess::start(home.path(), &args);
    let answer = |p: usize| {
        (
            org.problems[p].id.clone(),
            org.answer(p, Expectation::Accepted),
        )
    };
    let first = tokio::task::block_in_place(|| Machine::exam(&org, "c-1", &[answer(0)]));
    let client = sync_client(&server.url, &venue);
    sync_pass(&first.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let backup = home.path().join("server-backup.sqlite");
    rusqlite::Connection::open(data.path().join("server.sqlite"))
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    let synced =
        tokio::task::block_in_place(|| Machine::exam(&org, "c-2", &[answer(0), answer(1)]));
    sync_pass(&synced.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let Machine { engine, dir, .. } = synced;
    drop(engine);
    let cli = |args: &[&os]| sqlexam_tests::cli(home.path(), args);
    // Closed and opened again (a record of that), synced from the command line: all synced.
    let session_sync = |url: &str| {
        cli(&[
            os::new("session"),
            os::new("--dir"),
            dir.path().as_os_str(),
            os::new("sync"),
            os::new("--server"),
            os::new(url),
            os::new("--token"),
            os::new(&venue),
            os::new("--timeout"),
            os::new("20"),
        ])
    };
    let (code, text) = session_sync(&server.url);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("all synced"), "{text}");
    let shown: u64 = rusqlite::Connection::open(sqlexam_core::session::store_path(dir.path()))
        .unwrap()
        .query_row("SELECT max(size) FROM log_checkpoints", [], |r| r.get(0))
        .unwrap();

    // The operator restores yesterday's backup.
    server.kill();
    let db = data.path().join("server.sqlite");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", db.display()));
    }
    std::fs::copy(&backup, &db).unwrap();
    let (code, said) = serve_refused(home.path(), &args);
    assert_ne!(code, Some(0), "{said}");
    assert!(
        said.contains("but this server signed a checkpoint of")
            && said.contains(&format!("{} records", shown)),
        "{said}"
    );

    // Served anyway (the file moved aside): the machine that had nothing left to send
    // finds the server's history shorter than what it was shown.
    std::fs::rename(
        data.path().join("checkpoint.latest"),
        home.path().join("checkpoint.kept"),
    )
    .unwrap();
    let server = sqlexam_tests::ServeProcess::start(home.path(), &args);
    let (code, text) = session_sync(&server.url);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("not an extension of the {} records", shown)),
        "{text}"
    );
    let key = home.path().join("server.pem");
    std::fs::write(
        &key,
        sqlexam_server::server_key(data.path())
            .unwrap()
            .public()
            .to_pem(),
    )
    .unwrap();
    let (code, text) = cli(&[
        os::new("receipt"),
        os::new("verify"),
        dir.path().as_os_str(),
        os::new("--server-key"),
        key.as_os_str(),
        os::new("--server"),
        os::new(&server.url),
        os::new("--token"),
        os::new(&venue),
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("NO LONGER HOLDS THE HISTORY")
            && text.contains(&format!("checkpoint of {} records", shown)),
        "{text}"
    );
    // The proctor's export of that machine says so beside its candidate.
    let stick = tempfile::tempdir().unwrap();
    let exported = sqlexam_export::machine::export(&sqlexam_export::machine::Request {
        dir: dir.path(),
        pack: None,
        passphrase: sqlexam_tests::PASSPHRASE,
        venue: "Room 3",
        lang: sqlexam_export::Lang::En,
        out: stick.path(),
        now: "2026-12-08T12:00:00Z",
        pdf: false,
    })
    .unwrap();
    let json = exported
        .files
        .iter()
        .find(|f| f.to_string_lossy().ends_with("-results.json"))
        .unwrap();
    let results: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    let incidents = &results["candidates"][0]["incidents"];
    assert!(
        incidents
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "log_contradiction"
                && i["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("not an extension of the {shown} records"))),
        "{incidents}"
    );
    drop(first);
}

/// A pack with a roster: who sat is proven by the admission code (or a proctor), offline on
/// the machine and again by the server; a session for a rostered candidate without their
/// code, a code moved to another session, a candidate not on the roster — each is withheld,
/// and the honest candidates count.
async fn who_sat_the_exam_is_proven_by_admission(backend: Backend) {
    use sqlexam_core::session::{Admit, SessionError};
    let org = sqlexam_tests::organizer_with_roster(
        2,
        &[
            ("c-1", "Aoki Mei"),
            ("c-2", "Baba Ken"),
            ("c-3", "Chiba Rin"),
        ],
    );
    let servers = servers(&backend, &org.trust, 1).await;
    let server = &servers[0];
    let api = Api::new(&server.url);
    api.upload(&server.organizer, &org).await;
    let good = (
        org.problems[0].id.clone(),
        org.answer(0, Expectation::Accepted),
    );
    // On the machine: no code, or another candidate's, is refused before anything starts.
    let refused = Machine::sit(&org, "c-1", Admit::Nobody, &[]).err();
    assert!(
        matches!(refused, Some(SessionError::AdmissionNeeded(_))),
        "{refused:?}"
    );
    let refused = Machine::sit(&org, "c-1", Admit::Code(&org.admission_codes["c-2"]), &[]).err();
    assert!(
        matches!(refused, Some(SessionError::WrongAdmissionCode(_))),
        "{refused:?}"
    );
    // c-1 with their slip; c-2 lost theirs and a proctor admits them; a walk-in, c-9.
    let sat = |candidate: &str, admit: Admit<'_>| {
        tokio::task::block_in_place(|| {
            Machine::sit(&org, candidate, admit, std::slice::from_ref(&good)).unwrap()
        })
    };
    let machines = [
        sat("c-1", Admit::Code(&org.admission_codes["c-1"])),
        sat("c-2", Admit::Proctor(sqlexam_tests::PASSPHRASE)),
        sat("c-9", Admit::Proctor(sqlexam_tests::PASSPHRASE)),
    ];
    let client = sync_client(&server.url, &server.venue);
    for m in &machines {
        sync_pass(&m.engine, &client, true, &|_: usize| {})
            .await
            .unwrap();
    }
    // Forgers with the venue token: c-3's id without c-3's code; c-1's admission copied
    // onto a session of their own.
    let mut forged = Device::new(&org, "s-forged", "c-3");
    forged.start();
    forged.push(Device::honest(&org.problems[0], 1, &good.1));
    let first = machines[0].engine.records().unwrap()[0].clone();
    let first: sqlexam_core::record::Record = serde_json::from_slice(&first.bytes).unwrap();
    let Event::SessionStarted { admission, .. } = first.event else {
        panic!("the first record starts the session");
    };
    let mut copied = Device::new(&org, "s-copied", "c-1");
    copied.push(Event::SessionStarted {
        candidate_name: "Aoki Mei".into(),
        device_public_key: copied.key.public().to_hex(),
        duration_ms: org.duration_ms,
        while_closed: sqlexam_core::problem::WhileClosed::Paused,
        packs_seen: Default::default(),
        admission,
    });
    copied.push(Device::honest(&org.problems[0], 1, &good.1));
    let all: Vec<_> = forged
        .records
        .iter()
        .chain(&copied.records)
        .cloned()
        .collect();
    let posted = api.post_batch(&server.venue, ndjson(&all)).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    api.wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(120))
        .await;
    let exam = &org.pack_id;
    let view = api
        .get(&server.organizer, &format!("/v1/exams/{exam}/dashboard"))
        .await
        .json;
    assert_eq!(view["roster"], true);
    let admitted: std::collections::BTreeMap<&str, &str> = view["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["session"] != "s-copied")
        .map(|s| {
            (
                s["candidate"].as_str().unwrap(),
                s["admitted"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(admitted["c-1"], "code");
    assert_eq!(admitted["c-2"], "proctor");
    assert_eq!(admitted["c-9"], "proctor");
    assert_eq!(admitted["c-3"], "unadmitted");
    let results = &view["results"];
    let points = u64::from(org.problems[0].points);
    let c1 = candidate(results, "c-1");
    assert_eq!(c1["total"], points, "{c1}");
    assert_eq!(
        c1["name"], "Aoki Mei",
        "the roster's name, not the one typed"
    );
    assert_eq!(
        withheld(c1),
        vec![(
            "s-copied".to_owned(),
            vec!["unadmitted".to_owned(), "second_session".to_owned()]
        )]
    );
    assert_eq!(
        candidate(results, "c-2")["total"],
        points,
        "a proctor admitted them"
    );
    for (id, reasons) in [("c-3", vec!["unadmitted"]), ("c-9", vec!["not_on_roster"])] {
        let c = candidate(results, id);
        assert_eq!(
            (c["total"].as_u64(), c["counted"].as_bool()),
            (Some(0), Some(false)),
            "{c}"
        );
        assert_eq!(withheld(c)[0].1, reasons, "{c}");
    }
    drop(machines);
    stop(servers).await;
}

on_both_backends!(
    who_sat_the_exam_is_proven_by_admission,
    who_sat_the_exam_is_proven_by_admission_on_sqlite,
    who_sat_the_exam_is_proven_by_admission_on_postgres
);

/// The same on PostgreSQL, backed up and restored with its own tools (`pg_dump`,
/// `pg_restore --clean`): the server refuses the restored database, naming both sizes, and
/// served anyway, a fully synced machine reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_restored_from_an_older_dump_is_refused_and_caught() {
    use std::ffi::OsStr as os;
    let org = organizer(2);
    let cluster = sqlexam_tests::pg::PgCluster::start_durable();
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let storage = [
        os::new("--data"),
        data.path().as_os_str(),
        os::new("--database"),
        os::new(&url),
    ];
    let venue = sqlexam_tests::create_token(home.path(), "venue", &storage);
    let mut args = vec![os::new("--workers"), os::new("0")];
    args.extend(storage);
    let mut server = sqlexam_tests::ServeProcess::start(home.path(), &args);
    let answer = |p: usize| {
        (
            org.problems[p].id.clone(),
            org.answer(p, Expectation::Accepted),
        )
    };
    let client = sync_client(&server.url, &venue);
    let first = tokio::task::block_in_place(|| Machine::exam(&org, "c-1", &[answer(0)]));
    sync_pass(&first.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let dump = cluster.dump(&url, "before-c2.dump");
    let second =
        tokio::task::block_in_place(|| Machine::exam(&org, "c-2", &[answer(0), answer(1)]));
    sync_pass(&second.engine, &client, true, &|_: usize| {})
        .await
        .unwrap();
    let shown = second
        .engine
        .newest_checkpoint(&sqlexam_server::server_key(data.path()).unwrap().public())
        .unwrap()
        .unwrap()
        .size;

    server.kill();
    cluster.restore(&url, &dump);
    let (code, said) = serve_refused(home.path(), &args);
    assert_ne!(code, Some(0), "{said}");
    assert!(
        said.contains("but this server signed a checkpoint of")
            && said.contains(&format!("{shown} records")),
        "{said}"
    );

    // Served anyway: the machine that had nothing left to send reports it.
    std::fs::rename(
        data.path().join("checkpoint.latest"),
        home.path().join("checkpoint.kept"),
    )
    .unwrap();
    let server = sqlexam_tests::ServeProcess::start(home.path(), &args);
    let client = sync_client(&server.url, &venue);
    let caught = sync_pass(&second.engine, &client, true, &|_: usize| {})
        .await
        .unwrap_err();
    assert!(
        caught
            .to_string()
            .contains("the server's proof does not hold")
            && sqlexam_core::error_chain(&caught)
                .contains(&format!("not an extension of the {shown} records")),
        "{}",
        sqlexam_core::error_chain(&caught)
    );
    drop((first, second, server));
    drop(cluster);
}
