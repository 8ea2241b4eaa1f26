//! The session engine as a candidate and a proctor meet it: submissions graded off the
//! caller's thread into a signed chain, the exam clock across restarts and clock jumps,
//! refusals after time, proctor actions, drafts, the outbox, and tampering found by name.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlexam_core::crypto::SigningKey;
use sqlexam_core::grade::Verdict;
use sqlexam_core::pack::{Anchor, BuildOptions, Trust, build};
use sqlexam_core::problem::{ExamRules, Localized, WhileClosed};
use sqlexam_core::record::{Event, Finding, ProctorAction, Record};
use sqlexam_core::session::{
    Engine, EngineEvent, ManualClock, SessionError, SessionState, store_expectations, store_path,
    verify_report,
};
use time::macros::datetime;

use crate::{data, dept_count, raise};

const GOOD: &str =
    "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id";
const PASS: &str = "proctor secret";
/// 2026-06-01 12:00 UTC, inside the packs' validity window.
const WALL: i64 = 1_780_315_200_000;

fn demo_key() -> SigningKey {
    SigningKey::from_pem(
        &std::fs::read_to_string(data("../../../../keys/demo/demo-organizer.key")).unwrap(),
    )
    .unwrap()
}

fn trust() -> Trust {
    Trust {
        anchors: vec![Anchor::new(&demo_key().public(), "demo")],
        revoked: Vec::new(),
    }
}

fn pack(while_closed: WhileClosed) -> Vec<u8> {
    let key = demo_key();
    let options = BuildOptions {
        key: &key,
        endorsements: Vec::new(),
        start_code: Some("ROOM-1234".into()),
        exam: ExamRules {
            duration_ms: 30 * 60_000,
            while_closed,
        },
        proctor_passphrase: Some(PASS.into()),
        roster: None,
        created: datetime!(2026-01-01 0:00 UTC),
        not_before: datetime!(2026-01-01 0:00 UTC),
        not_after: datetime!(2027-01-01 0:00 UTC),
    };
    let title = Localized {
        en: "Company".into(),
        ja: "会社".into(),
    };
    build(
        "company",
        &semver::Version::new(1, 0, 0),
        &title,
        &[dept_count().clone(), raise().clone()],
        &options,
    )
    .unwrap()
}

struct Exam {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
}

impl Exam {
    fn new() -> Exam {
        Exam {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(ManualClock::new(WALL)),
        }
    }
    fn engine(&self) -> Engine {
        Engine::open(self.dir.path(), trust(), self.clock.clone()).unwrap()
    }
    fn store(&self) -> std::path::PathBuf {
        store_path(self.dir.path())
    }
}

fn records_of(engine: &Engine) -> Vec<Record> {
    let signed = engine.records().unwrap();
    let report = engine.verify().unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    signed
        .iter()
        .map(|s| serde_json::from_slice(&s.bytes).unwrap())
        .collect()
}

fn wait_graded(events: &std::sync::mpsc::Receiver<EngineEvent>, id: u64) -> Verdict {
    loop {
        match events
            .recv_timeout(Duration::from_secs(60))
            .expect("graded in time")
        {
            EngineEvent::Graded {
                submission,
                grading,
                ..
            } if submission == id => return grading.verdict,
            _ => {}
        }
    }
}

#[test]
fn a_submission_returns_at_once_and_its_verdict_becomes_a_signed_record() {
    let exam = Exam::new();
    let engine = exam.engine();
    let events = engine.subscribe();
    let session = engine
        .start_session(
            &pack(WhileClosed::Paused),
            Some("room1234"),
            "C001",
            "青木 太郎",
        )
        .unwrap();
    let wrong = engine
        .submit(&session, "dept-count", "SELECT name, 1 FROM dept")
        .unwrap();
    let right = engine.submit(&session, "dept-count", GOOD).unwrap();
    assert_eq!(wait_graded(&events, wrong), Verdict::WrongAnswer);
    assert_eq!(wait_graded(&events, right), Verdict::Accepted);
    let view = engine.view(&session).unwrap();
    assert_eq!((view.score, view.max_score), (100, 200));
    assert_eq!(view.problems[0].submissions, 2);
    let records = records_of(&engine);
    assert_eq!(records.len(), 3, "started + two submissions");
    match &records[2].event {
        Event::Submission {
            submission_id,
            verdict,
            score,
            sql,
            datasets,
            ..
        } => {
            assert_eq!(
                (*submission_id, *verdict, *score, sql.as_str()),
                (right, Verdict::Accepted, 100, GOOD)
            );
            assert_eq!(datasets.len(), 4);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(records[2].seq, 3);
    assert_eq!(records[2].candidate, "C001");
    assert_eq!(
        engine.submission(right).unwrap().unwrap().verdict,
        Some(Verdict::Accepted)
    );
}

#[test]
fn run_on_sample_reports_on_the_worker_and_writes_no_record() {
    let exam = Exam::new();
    let engine = exam.engine();
    let events = engine.subscribe();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C002", "")
        .unwrap();
    let run = engine
        .run_sample(&session, "dept-count", "SELECT name, 1 FROM dept")
        .unwrap();
    loop {
        match events.recv_timeout(Duration::from_secs(60)).unwrap() {
            EngineEvent::SampleRun {
                run: r, grading, ..
            } if r == run => {
                assert_eq!(grading.datasets.len(), 1, "samples only");
                assert!(grading.datasets[0].produced.is_some(), "the result grid");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(records_of(&engine).len(), 1, "only the start");
}

#[test]
fn time_up_refuses_submissions_and_records_the_refusal() {
    let exam = Exam::new();
    let engine = exam.engine();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C003", "")
        .unwrap();
    exam.clock.advance(30 * 60_000 + 1);
    assert!(matches!(
        engine.submit(&session, "dept-count", GOOD),
        Err(SessionError::TimeUp)
    ));
    let view = engine.view(&session).unwrap();
    assert_eq!((view.state, view.remaining_ms), (SessionState::Ended, 0));
    let kinds: Vec<String> = records_of(&engine)
        .iter()
        .map(|r| {
            format!("{:?}", r.event)
                .split(' ')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["SessionStarted", "SessionEnded", "SubmissionRefused"]
    );
}

#[test]
fn proctor_extends_time_only_with_the_passphrase_and_each_action_is_recorded() {
    let exam = Exam::new();
    let engine = exam.engine();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C004", "")
        .unwrap();
    assert!(matches!(
        engine.proctor(&session, "guess", ProctorAction::Extend { minutes: 10 }),
        Err(SessionError::WrongPassphrase)
    ));
    engine
        .proctor(&session, PASS, ProctorAction::Extend { minutes: 10 })
        .unwrap();
    exam.clock.advance(35 * 60_000);
    assert_eq!(
        engine.view(&session).unwrap().state,
        SessionState::Running,
        "35 of 40 minutes"
    );
    exam.clock.advance(5 * 60_000);
    assert_eq!(engine.view(&session).unwrap().state, SessionState::Ended);
    let records = records_of(&engine);
    assert!(records.iter().any(|r| matches!(
        r.event,
        Event::Proctor {
            action: ProctorAction::Extend { minutes: 10 },
            proof: Some(_),
        }
    )));
    assert!(
        matches!(&records.last().unwrap().event, Event::SessionEnded { reason } if reason == "time_up")
    );
}

#[test]
fn proctor_can_end_the_exam_for_a_candidate() {
    let exam = Exam::new();
    let engine = exam.engine();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C005", "")
        .unwrap();
    engine.proctor(&session, PASS, ProctorAction::End).unwrap();
    assert!(matches!(
        engine.submit(&session, "dept-count", GOOD),
        Err(SessionError::Ended)
    ));
    let records = records_of(&engine);
    assert!(matches!(&records[1].event, Event::SessionEnded { reason } if reason == "proctor"));
    assert!(matches!(
        records[2].event,
        Event::Proctor {
            action: ProctorAction::End,
            proof: Some(_),
        }
    ));
}

#[test]
fn elapsed_time_survives_a_restart_and_closing_needs_a_proctor_to_resume() {
    let exam = Exam::new();
    let session = {
        let engine = exam.engine();
        let s = engine
            .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C006", "")
            .unwrap();
        engine
            .save_draft(&s, "dept-count", "SELECT 1 -- half written")
            .unwrap();
        exam.clock.advance(12 * 60_000);
        s
    };
    // Closed for an hour, and someone moved the wall clock forward a day: no exam time passes.
    exam.clock.advance(60 * 60_000);
    exam.clock.jump_wall(24 * 3_600_000);
    let engine = exam.engine();
    let view = engine.view(&session).unwrap();
    assert_eq!(
        (view.state, view.elapsed_ms),
        (SessionState::Interrupted, 12 * 60_000)
    );
    assert_eq!(
        engine.drafts(&session).unwrap()["dept-count"],
        "SELECT 1 -- half written"
    );
    assert!(matches!(
        engine.submit(&session, "dept-count", GOOD),
        Err(SessionError::Interrupted)
    ));
    exam.clock.advance(5 * 60_000);
    assert_eq!(
        engine.view(&session).unwrap().elapsed_ms,
        12 * 60_000,
        "the clock stands while interrupted"
    );
    engine
        .proctor(&session, PASS, ProctorAction::Resume)
        .unwrap();
    exam.clock.advance(60_000);
    assert_eq!(engine.view(&session).unwrap().elapsed_ms, 13 * 60_000);
}

#[test]
fn wall_clock_jumps_while_running_neither_add_nor_remove_time() {
    let exam = Exam::new();
    let engine = exam.engine();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C007", "")
        .unwrap();
    exam.clock.advance(10 * 60_000);
    exam.clock.jump_wall(-3 * 3_600_000);
    assert_eq!(engine.view(&session).unwrap().elapsed_ms, 10 * 60_000);
    exam.clock.jump_wall(7 * 3_600_000);
    assert_eq!(engine.view(&session).unwrap().elapsed_ms, 10 * 60_000);
}

#[test]
fn under_the_running_policy_closed_time_counts_but_never_backwards() {
    let exam = Exam::new();
    let session = {
        let engine = exam.engine();
        let s = engine
            .start_session(&pack(WhileClosed::Running), Some("ROOM1234"), "C008", "")
            .unwrap();
        exam.clock.advance(5 * 60_000);
        s
    };
    exam.clock.advance(3 * 60_000); // closed for 3 minutes
    let elapsed = exam.engine().view(&session).unwrap().elapsed_ms;
    assert_eq!(
        elapsed,
        8 * 60_000,
        "closed time counts, and the session runs without a proctor"
    );
    // Closed again, and the wall clock was set back an hour: nothing is taken away.
    exam.clock.jump_wall(-3_600_000);
    let engine = exam.engine();
    let view = engine.view(&session).unwrap();
    assert_eq!(
        (view.state, view.elapsed_ms),
        (SessionState::Running, 8 * 60_000)
    );
    assert!(
        records_of(&engine)
            .iter()
            .any(|r| matches!(r.event, Event::Reopened { closed_ms } if closed_ms == 3 * 60_000))
    );
}

#[test]
fn the_outbox_gives_records_in_order_until_a_proof_of_each_is_stored() {
    let exam = Exam::new();
    let engine = exam.engine();
    let events = engine.subscribe();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C009", "")
        .unwrap();
    let id = engine
        .submit(
            &session,
            "raise",
            "UPDATE emp SET salary = round(salary * 1.1) WHERE dept_id = 2",
        )
        .unwrap();
    assert_eq!(wait_graded(&events, id), Verdict::Accepted);
    let batch = engine.outbox(10).unwrap();
    assert_eq!(batch.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(engine.sync_counts().unwrap().unsent, 2);
    let checkpoint = sqlexam_core::session::StoredCheckpoint {
        server: "k".into(),
        size: 1,
        note: "n".into(),
        consistency: Vec::new(),
        received_wall_ms: 5,
    };
    let proof = sqlexam_core::session::StoredReceipt {
        server: "k".into(),
        session: session.clone(),
        seq: 1,
        leaf: 0,
        size: 1,
        proof: Vec::new(),
    };
    assert_eq!(
        engine
            .store_receipts(&checkpoint, std::slice::from_ref(&proof))
            .unwrap(),
        1
    );
    // The same proof again marks nothing new.
    assert_eq!(engine.store_receipts(&checkpoint, &[proof]).unwrap(), 0);
    assert_eq!(
        engine
            .outbox(10)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(engine.view(&session).unwrap().unsynced, 1);
    let counts = engine.sync_counts().unwrap();
    assert_eq!((counts.unsent, counts.last_receipt_wall_ms), (1, Some(5)));
}

/// A store with a session of five records, for tampering.
fn five_records(exam: &Exam) -> String {
    let engine = exam.engine();
    let events = engine.subscribe();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C010", "")
        .unwrap();
    for _ in 0..4 {
        let id = engine.submit(&session, "dept-count", GOOD).unwrap();
        wait_graded(&events, id);
    }
    session
}

fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn findings(path: &Path) -> Vec<Finding> {
    let records = sqlexam_core::session::read_store_records(path).unwrap();
    let expect = store_expectations(path.parent().unwrap(), &records, None);
    verify_report(&records, &expect).findings
}

#[test]
fn tampering_with_the_store_is_found_and_named() {
    // Edited bytes.
    let exam = Exam::new();
    five_records(&exam);
    tamper(
        &exam.store(),
        "UPDATE records SET bytes = CAST(replace(bytes, '\"score\":100', '\"score\":999') AS BLOB) WHERE seq = 3",
    );
    let found = findings(&exam.store());
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::BadSignature { seq: 3, .. })),
        "{found:?}"
    );
    match Engine::open(exam.dir.path(), trust(), exam.clock.clone()) {
        Err(SessionError::Tampered(msg)) => assert!(msg.contains("seq 3"), "{msg}"),
        other => panic!("a tampered store opened: {:?}", other.err()),
    }

    // A record deleted from the middle.
    let exam = Exam::new();
    five_records(&exam);
    tamper(&exam.store(), "DELETE FROM records WHERE seq = 3");
    let found = findings(&exam.store());
    assert_eq!(found.len(), 1, "the gap is the one problem: {found:?}");
    assert!(
        matches!(&found[0], Finding::Gap { from: 3, to: 3, .. }),
        "{found:?}"
    );

    // Two records swapped.
    let exam = Exam::new();
    five_records(&exam);
    tamper(
        &exam.store(),
        "UPDATE records SET seq = -1 WHERE seq = 3; UPDATE records SET seq = 3 WHERE seq = 4; UPDATE records SET seq = 4 WHERE seq = -1;",
    );
    let found = findings(&exam.store());
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::OutOfOrder { seq: 3, .. })),
        "{found:?}"
    );

    // A record from another device swapped in.
    let other = Exam::new();
    five_records(&other);
    let foreign: (Vec<u8>, Vec<u8>) = rusqlite::Connection::open(other.store())
        .unwrap()
        .query_row(
            "SELECT bytes, signature FROM records WHERE seq = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let exam = Exam::new();
    let session = five_records(&exam);
    let conn = rusqlite::Connection::open(exam.store()).unwrap();
    conn.execute(
        "UPDATE records SET bytes = ?1, signature = ?2 WHERE seq = 3",
        (foreign.0, foreign.1),
    )
    .unwrap();
    let found = findings(&exam.store());
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::Gap { session: s, from: 3, .. } if *s == session))
            && found.iter().any(|f| matches!(
                f,
                Finding::MissingStart { .. } | Finding::ForeignDevice { .. }
            )),
        "{found:?}"
    );
}

#[test]
fn a_damaged_store_file_is_refused_and_left_as_it_was() {
    let exam = Exam::new();
    five_records(&exam);
    let path = exam.store();
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(4096).take(8192) {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
    assert!(Engine::open(exam.dir.path(), trust(), exam.clock.clone()).is_err());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "never repaired or overwritten"
    );
}

#[test]
#[cfg(unix)] // runs python3, which a Windows test binary here (under wine) has not
fn record_signatures_verify_with_python_cryptography_not_our_code() {
    let exam = Exam::new();
    let session = five_records(&exam);
    let engine = exam.engine();
    engine
        .proctor(&session, PASS, ProctorAction::Extend { minutes: 5 })
        .unwrap();
    engine.proctor(&session, PASS, ProctorAction::End).unwrap();
    let lines: String = engine
        .records()
        .unwrap()
        .iter()
        .map(|r: &sqlexam_core::record::SignedRecord| r.to_export_line() + "\n")
        .collect();
    let export = exam.dir.path().join("records.jsonl");
    std::fs::write(&export, lines).unwrap();
    let (manifest, _) =
        sqlexam_core::pack::signed_manifest(&pack(WhileClosed::Paused)[..]).unwrap();
    let proctor_key = manifest.proctor.unwrap().public_key;
    // The script of docs/record-format.md, between its markers.
    let doc = std::fs::read_to_string(data("../../../../docs/record-format.md")).unwrap();
    let script = doc
        .split("<!-- python-check -->")
        .nth(1)
        .unwrap()
        .trim()
        .trim_start_matches("```python")
        .trim_end_matches("```");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&export)
        .arg(&proctor_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Start, four submissions, the interruption at reopening, extend, end, proctor end.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified 9");
}

#[test]
fn an_edited_sessions_table_is_refused_on_open() {
    let exam = Exam::new();
    let session = {
        let engine = exam.engine();
        let s = engine
            .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C011", "")
            .unwrap();
        engine.proctor(&s, PASS, ProctorAction::End).unwrap();
        s
    };
    tamper(
        &exam.store(),
        &format!("UPDATE sessions SET state = 'running', elapsed_ms = 0 WHERE id = '{session}'"),
    );
    match Engine::open(exam.dir.path(), trust(), exam.clock.clone()) {
        Err(SessionError::Tampered(msg)) => assert!(msg.contains("ended"), "{msg}"),
        other => panic!("an edited table opened: {:?}", other.err()),
    }
    let exam = Exam::new();
    let session = exam
        .engine()
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C012", "")
        .unwrap();
    tamper(
        &exam.store(),
        &format!("UPDATE sessions SET duration_ms = duration_ms * 2 WHERE id = '{session}'"),
    );
    assert!(matches!(
        Engine::open(exam.dir.path(), trust(), exam.clock.clone()),
        Err(SessionError::Tampered(_))
    ));
}

#[test]
fn a_candidate_cannot_check_in_twice_for_the_same_exam() {
    let exam = Exam::new();
    let engine = exam.engine();
    let first = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C013", "")
        .unwrap();
    engine.finish(&first).unwrap();
    assert!(matches!(
        engine
            .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C013", "")
            .err(),
        Some(SessionError::AlreadyStarted(c)) if c == "C013"
    ));
    assert!(
        engine
            .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C014", "")
            .is_ok()
    );
}

#[test]
fn only_one_program_opens_a_store_at_a_time() {
    let exam = Exam::new();
    let _engine = exam.engine();
    assert!(matches!(
        Engine::open(exam.dir.path(), trust(), exam.clock.clone()),
        Err(SessionError::Busy(_))
    ));
}

#[test]
fn a_suspended_machine_follows_the_closed_time_policy() {
    let exam = Exam::new();
    let engine = exam.engine();
    let paused = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C015", "")
        .unwrap();
    exam.clock.advance(60_000);
    engine.view(&paused).unwrap();
    exam.clock.suspend(20 * 60_000); // the lid was closed for 20 minutes
    let view = engine.view(&paused).unwrap();
    assert_eq!(
        (view.state, view.elapsed_ms),
        (SessionState::Interrupted, 60_000)
    );

    let exam = Exam::new();
    let engine = exam.engine();
    let running = engine
        .start_session(&pack(WhileClosed::Running), Some("ROOM1234"), "C016", "")
        .unwrap();
    exam.clock.advance(60_000);
    engine.view(&running).unwrap();
    exam.clock.suspend(20 * 60_000);
    let view = engine.view(&running).unwrap();
    assert_eq!(
        (view.state, view.elapsed_ms),
        (SessionState::Running, 21 * 60_000)
    );
}

#[test]
fn a_submission_made_before_time_up_is_graded_and_verifies_after_the_end() {
    let exam = Exam::new();
    let session = {
        let engine = exam.engine();
        let s = engine
            .start_session(&pack(WhileClosed::Running), Some("ROOM1234"), "C017", "")
            .unwrap();
        exam.clock.advance(29 * 60_000);
        s
    };
    // Queue a submission straight into the store as if the app died before grading it,
    // then let the time run out while the app was closed.
    tamper(
        &exam.store(),
        &format!(
            "INSERT INTO submissions (session_id, problem, sql, elapsed_ms, state) VALUES ('{session}', 'dept-count', '{GOOD}', 1740000, 'queued')"
        ),
    );
    exam.clock.advance(5 * 60_000);
    let engine = exam.engine();
    assert!(engine.wait_idle(Duration::from_secs(60)));
    let view = engine.view(&session).unwrap();
    assert_eq!(view.state, SessionState::Ended);
    let records = records_of(&engine);
    assert!(
        records.iter().any(|r| matches!(
            r.event,
            Event::Submission {
                verdict: Verdict::Accepted,
                ..
            }
        )),
        "{records:?}"
    );
    drop(engine);
    assert!(
        Engine::open(exam.dir.path(), trust(), exam.clock.clone()).is_ok(),
        "the chain still verifies on open"
    );
}

/// What a candidate with the store's files can do: append a record signed with the device
/// key (which sits beside the store) after the session's last one.
fn append_forged(exam: &Exam, session: &str, event: Event) {
    let device =
        SigningKey::from_pem(&std::fs::read_to_string(exam.dir.path().join("device.key")).unwrap())
            .unwrap();
    let conn = rusqlite::Connection::open(exam.store()).unwrap();
    let (seq, bytes): (u64, Vec<u8>) = conn
        .query_row(
            "SELECT seq, bytes FROM records WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let last: Record = serde_json::from_slice(&bytes).unwrap();
    let record = Record {
        seq: seq + 1,
        prev: sqlexam_core::crypto::sha256_hex(&bytes),
        event,
        ..last
    };
    let signed = sqlexam_core::record::SignedRecord::sign(&record, &device);
    conn.execute(
        "INSERT INTO records (session_id, seq, bytes, signature) VALUES (?1, ?2, ?3, ?4)",
        (session, seq + 1, &signed.bytes, &signed.signature),
    )
    .unwrap();
}

#[test]
fn a_proctor_action_signed_only_with_the_device_key_is_not_proven() {
    let exam = Exam::new();
    let session = five_records(&exam);
    // A real extension first, whose proof a forger might replay.
    let engine = exam.engine();
    engine
        .proctor(&session, PASS, ProctorAction::Extend { minutes: 5 })
        .unwrap();
    let real_proof = records_of(&engine)
        .into_iter()
        .find_map(|r| match r.event {
            Event::Proctor { proof, .. } => proof,
            _ => None,
        })
        .unwrap();
    drop(engine);

    append_forged(
        &exam,
        &session,
        Event::Proctor {
            action: ProctorAction::Extend { minutes: 600 },
            proof: None,
        },
    );
    let found = findings(&exam.store());
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::ProctorUnproven { why, .. } if why == "missing")),
        "{found:?}"
    );
    match Engine::open(exam.dir.path(), trust(), exam.clock.clone()) {
        Err(SessionError::Tampered(msg)) => assert!(msg.contains("proctor"), "{msg}"),
        other => panic!("a forged extension opened: {:?}", other.err()),
    }

    // The real proof replayed on another record names another place in the chain.
    let exam2 = Exam::new();
    let session2 = five_records(&exam2);
    append_forged(
        &exam2,
        &session2,
        Event::Proctor {
            action: ProctorAction::Extend { minutes: 5 },
            proof: Some(real_proof),
        },
    );
    let found = findings(&exam2.store());
    assert!(
        found.iter().any(|f| matches!(
            f,
            Finding::ProctorUnproven { why, .. } if why == "wrong_statement"
        )),
        "{found:?}"
    );
}

#[test]
fn a_session_of_another_device_and_an_exact_duplicate_are_findings() {
    // A whole session from another machine's store copied into this one.
    let other = Exam::new();
    let foreign_session = five_records(&other);
    let exam = Exam::new();
    five_records(&exam);
    let conn = rusqlite::Connection::open(exam.store()).unwrap();
    conn.execute("ATTACH ?1 AS other", [other.store().to_str().unwrap()])
        .unwrap();
    conn.execute_batch("INSERT INTO records SELECT * FROM other.records")
        .unwrap();
    drop(conn);
    let found = findings(&exam.store());
    assert!(
        found.iter().any(
            |f| matches!(f, Finding::ForeignSession { session, .. } if *session == foreign_session)
        ),
        "{found:?}"
    );

    // The same record twice (an export with a line repeated).
    let records = sqlexam_core::session::read_store_records(&other.store()).unwrap();
    let text: String = [&records[..], &records[2..3]]
        .concat()
        .iter()
        .map(|r| r.to_export_line() + "\n")
        .collect();
    let (parsed, bad) = sqlexam_core::record::parse_export(&text);
    assert!(bad.is_empty());
    let report = verify_report(&parsed, &Default::default());
    assert!(
        report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::Duplicate { seq: 3, .. })),
        "{:?}",
        report.findings
    );

    // A truncated export: the cut line is a finding, the others still verify.
    let cut = &text[..text.len() / 2];
    let (parsed, bad) = sqlexam_core::record::parse_export(cut);
    assert!(!parsed.is_empty());
    assert!(
        matches!(bad.as_slice(), [Finding::Unparsable { line: Some(_), .. }]),
        "{bad:?}"
    );
}

#[test]
fn closing_the_app_is_recorded_as_an_interruption_and_the_resume_follows_it() {
    let exam = Exam::new();
    let session = {
        let engine = exam.engine();
        engine
            .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C020", "")
            .unwrap()
    }; // a normal close
    let engine = exam.engine();
    engine
        .proctor(&session, PASS, ProctorAction::Resume)
        .unwrap();
    let kinds: Vec<(String, String)> = engine
        .record_rows(&session)
        .unwrap()
        .records
        .iter()
        .map(|r| (r.kind.clone(), r.summary.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("session_started".to_string(), String::new()),
            ("interrupted".into(), "closed".into()),
            ("proctor".into(), "resume".into()),
        ]
    );
}

#[test]
fn a_blank_submission_is_refused_without_a_record() {
    let exam = Exam::new();
    let engine = exam.engine();
    let session = engine
        .start_session(&pack(WhileClosed::Paused), Some("ROOM1234"), "C021", "")
        .unwrap();
    for blank in ["", "   \n", " -- just a comment\n;", "/* nothing */ ;;"] {
        assert!(
            matches!(
                engine.submit(&session, "dept-count", blank),
                Err(SessionError::Invalid(_))
            ),
            "{blank:?}"
        );
    }
    assert!(engine.submissions(&session).unwrap().is_empty());
    assert_eq!(records_of(&engine).len(), 1, "only the start");
}
