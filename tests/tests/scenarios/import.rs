//! A bundle imported into the server is a sync by hand: every record verified as if it had
//! been synced, records the server holds already are not stored again (an export made twice,
//! or after a partial sync), a bundle changed after the proctor signed it is refused whole,
//! and a bundle whose receipts the server's log no longer bears out is reported loudly.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use sqlexam_core::problem::Expectation;
use sqlexam_export::Lang;
use sqlexam_sync::{SyncError, sync_pass};
use sqlexam_tests::pg::PgCluster;
use sqlexam_tests::{
    Api, Backend, Machine, Organizer, PASSPHRASE, TestServer, organizer, proctor_export,
    sync_client,
};

fn answers(org: &Organizer, problems: &[(usize, Expectation)]) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|(p, e)| (org.problems[*p].id.clone(), org.answer(*p, *e)))
        .collect()
}

/// The machine's bundle, exported to `out`.
fn bundle_of(m: &Machine, out: &Path) -> Vec<u8> {
    let done = proctor_export(m, out, PASSPHRASE, Lang::En, false).unwrap();
    let file = done
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "sqlexam-bundle"))
        .unwrap();
    std::fs::read(file).unwrap()
}

/// `text` with `line` appended to its records, counted, digested and signed again with the
/// pack's proctor key: what only someone holding the proctor passphrase could make.
fn resign(text: &str, line: &str, org: &Organizer) -> Vec<u8> {
    use sqlexam_core::crypto::sha256_hex;
    let (head, body) = text.split_once('\n').unwrap();
    let header: serde_json::Value = serde_json::from_str(head).unwrap();
    let mut manifest: sqlexam_export::bundle::Manifest =
        serde_json::from_str(header["manifest"].as_str().unwrap()).unwrap();
    let body = format!("{body}{line}\n");
    manifest.records += 1;
    manifest.records_sha256 = sha256_hex(body.as_bytes());
    let manifest = serde_json::to_string(&manifest).unwrap();
    let (pack, _) = sqlexam_core::pack::signed_manifest(&org.pack[..]).unwrap();
    let signer = pack.proctor.unwrap().unlock(PASSPHRASE).unwrap();
    let signature = signer.sign(&format!("bundle={}", sha256_hex(manifest.as_bytes())));
    let header = serde_json::json!({
        "format": "sqlexam-bundle/1",
        "manifest": manifest,
        "signature": sqlexam_core::encoding::hex(&signature),
    });
    format!("{header}\n{body}").into_bytes()
}

async fn a_bundle_is_a_sync_by_hand(backend: Backend) {
    let org = organizer(2);
    let server = TestServer::launch(&backend, &org.trust, 1, None).await;
    let api = Api::new(&server.url);
    api.upload(&server.organizer, &org).await;
    let c = sync_client(&server.url, &server.venue);

    // The machine syncs part of its exam, then the network goes for good.
    let m = tokio::task::block_in_place(|| {
        Machine::exam(&org, "c-1", &answers(&org, &[(0, Expectation::Accepted)]))
    });
    let synced = sync_pass(&m.engine, &c, true, &|_: usize| {})
        .await
        .unwrap()
        .synced as u64;
    tokio::task::block_in_place(|| {
        m.submit(&answers(
            &org,
            &[(1, Expectation::WrongAnswer), (1, Expectation::Accepted)],
        ))
    });
    let all = m.engine.records().unwrap().len() as u64;
    let stick = tempfile::tempdir().unwrap();
    let bytes = tokio::task::block_in_place(|| bundle_of(&m, stick.path()));

    // The proctor imports the bundle: the rest arrives, what was synced is not stored again.
    let first = c.post_bundle(bytes.clone()).await.unwrap();
    assert_eq!(first.proctor, "verified");
    assert_eq!(first.records, all);
    assert_eq!(first.sessions.len(), 1);
    assert_eq!(first.sessions[0].stored, all - synced);
    assert_eq!(first.sessions[0].already_stored, synced);
    assert_eq!(first.sessions[0].receipt.seq, all);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    assert!(
        first.contradictions.is_empty(),
        "{:?}",
        first.contradictions
    );

    // Again (a second copy of the stick): nothing new.
    let again = c.post_bundle(bytes.clone()).await.unwrap();
    assert_eq!(again.sessions[0].stored, 0);
    assert_eq!(again.sessions[0].already_stored, all);

    // Every submission counted once, re-graded, and nothing flagged.
    let results = api
        .wait_regraded(
            &server.organizer,
            &org.pack_id,
            std::time::Duration::from_secs(240),
        )
        .await;
    assert_eq!(results.as_array().unwrap().len(), 1);
    let attempts: Vec<u64> = results[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2]);
    assert_eq!(
        api.flag_kinds(&server.organizer, &org.pack_id).await,
        Vec::<String>::new()
    );

    // A bundle changed after signing is refused whole, naming why.
    let text = String::from_utf8(bytes).unwrap();
    let changed = text.replacen("Room 3", "Room 9", 1);
    let refused = c.post_bundle(changed.into_bytes()).await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused(m) if m.contains("bundle_not_signed") && m.contains("signature")),
        "{refused:?}"
    );
    // A record of another exam slipped into a bundle (and signed again with the proctor's
    // key): refused whole, naming the line.
    let other = organizer(1);
    let stranger = tokio::task::block_in_place(|| {
        Machine::exam(
            &other,
            "c-9",
            &answers(&other, &[(0, Expectation::Accepted)]),
        )
    });
    let foreign = stranger.engine.records().unwrap()[0].to_export_line();
    let mixed = resign(&text, &foreign, &org);
    let refused = c.post_bundle(mixed).await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused(m) if m.contains("wrong_pack") && m.contains("line ")),
        "{refused:?}"
    );
    // Not a bundle at all.
    let refused = c.post_bundle(b"hello\n".to_vec()).await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused(m) if m.contains("line 1")),
        "{refused:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_a_sync_by_hand_on_sqlite() {
    a_bundle_is_a_sync_by_hand(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_a_sync_by_hand_on_postgres() {
    let cluster = PgCluster::start();
    a_bundle_is_a_sync_by_hand(Backend::Postgres(cluster.database().await)).await;
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_whose_receipts_the_log_contradicts_is_reported_loudly() {
    let org = organizer(1);
    let honest = TestServer::start(&org.trust, 0).await;
    let c = sync_client(&honest.url, &honest.venue);
    let m = tokio::task::block_in_place(|| {
        Machine::exam(&org, "c-1", &answers(&org, &[(0, Expectation::Accepted)]))
    });
    sync_pass(&m.engine, &c, true, &|_: usize| {})
        .await
        .unwrap();
    let stick = tempfile::tempdir().unwrap();
    let bytes = tokio::task::block_in_place(|| bundle_of(&m, stick.path()));

    // The same server (its key) restored from a backup older than the sync: an empty log.
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(
        honest.data_dir.join("server.key"),
        folder.path().join("server.key"),
    )
    .unwrap();
    let restored = TestServer::launch_in(&org.trust, folder).await;
    Api::new(&restored.url)
        .upload(&restored.organizer, &org)
        .await;
    let answer = sync_client(&restored.url, &restored.venue)
        .post_bundle(bytes)
        .await
        .unwrap();
    assert_eq!(
        answer.contradictions.len(),
        1,
        "{:?}",
        answer.contradictions
    );
    assert!(
        answer.contradictions[0].contains("records it receipted are gone"),
        "{:?}",
        answer.contradictions
    );
    // The records themselves are taken again, and the organizer sees the contradiction.
    assert_eq!(
        answer.sessions[0].stored,
        m.engine.records().unwrap().len() as u64
    );
    let kinds = Api::new(&restored.url)
        .flag_kinds(&restored.organizer, &org.pack_id)
        .await;
    assert_eq!(kinds, vec!["log_contradiction"]);
    // The session came by the bundle first: its venue is the one the proctor named.
    let view = Api::new(&restored.url)
        .get(
            &restored.organizer,
            &format!("/v1/exams/{}/dashboard", org.pack_id),
        )
        .await;
    assert_eq!(view.json["venues"][0]["venue"], "Room 3", "{}", view.text);
    restored.stop().await;
    honest.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_verifies_merges_and_imports_bundles() {
    use std::ffi::OsStr as os;
    use std::process::Command;
    let org = organizer(2);
    let home = tempfile::tempdir().unwrap();
    let cli = |args: &[&os]| {
        let out = Command::new(sqlexam_tests::sqlexam_bin())
            .args(args)
            .env("SQLEXAM_HOME", home.path())
            .env("SQLEXAM_PROCTOR_PASSPHRASE", PASSPHRASE)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let key_file = home.path().join("organizer.pub.pem");
    std::fs::write(&key_file, org.key.public().to_pem()).unwrap();
    assert_eq!(
        cli(&[os::new("trust"), os::new("add"), key_file.as_os_str()]).0,
        Some(0)
    );
    let pack = home.path().join("exam.sqlexam");
    std::fs::write(&pack, &org.pack).unwrap();
    let (a, b) = tokio::task::block_in_place(|| {
        let a = Machine::exam(&org, "0042", &answers(&org, &[(0, Expectation::Accepted)]));
        let b = Machine::exam(&org, "0043", &answers(&org, &[(1, Expectation::Accepted)]));
        (a, b)
    });
    let stick = tempfile::tempdir().unwrap();
    let create = |m: &Machine| {
        cli(&[
            os::new("bundle"),
            os::new("create"),
            os::new("--dir"),
            m.dir.path().as_os_str(),
            os::new("--out"),
            stick.path().as_os_str(),
            os::new("--venue"),
            os::new("Room 3"),
            os::new("--lang"),
            os::new("ja"),
        ])
    };
    let (code, text) = create(&a);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("signed by the proctor"), "{text}");
    assert_eq!(create(&b).0, Some(0));
    let bundles: Vec<std::path::PathBuf> = std::fs::read_dir(stick.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sqlexam-bundle"))
        .collect();
    assert_eq!(bundles.len(), 2);

    // Checked against the trusted pack: it says what it proves.
    let (code, text) = cli(&[
        os::new("bundle"),
        os::new("verify"),
        bundles[0].as_os_str(),
        os::new("--pack"),
        pack.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("signed by the pack's proctor key") && text.contains("the bundle verifies"),
        "{text}"
    );
    let mut damaged = std::fs::read(&bundles[0]).unwrap();
    let at = damaged.len() - 20;
    damaged[at] ^= 1;
    let bad = stick.path().join("damaged.sqlexam-bundle");
    std::fs::write(&bad, damaged).unwrap();
    let (code, text) = cli(&[os::new("bundle"), os::new("verify"), bad.as_os_str()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("THE BUNDLE DOES NOT VERIFY"), "{text}");

    // The room's results from both machines (one of them twice): each candidate once.
    let csv = stick.path().join("room.csv");
    let (code, text) = cli(&[
        os::new("bundle"),
        os::new("results"),
        bundles[0].as_os_str(),
        bundles[1].as_os_str(),
        bundles[0].as_os_str(),
        os::new("--out"),
        csv.as_os_str(),
        os::new("--lang"),
        os::new("en"),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.matches("(total)").count(), 2, "{table}");
    assert!(table.contains("\"=\"\"0042\"\"\""), "{table}");

    // The room's session report, in Japanese, printed to PDF where a browser is installed.
    let html = stick.path().join("room.html");
    let pdf = stick.path().join("room.pdf");
    let mut args = vec![os::new("bundle"), os::new("report")];
    args.extend(bundles.iter().map(|b| b.as_os_str()));
    args.extend([
        os::new("--out"),
        html.as_os_str(),
        os::new("--lang"),
        os::new("ja"),
    ]);
    if sqlexam_export::report::find_browser().is_some() {
        args.extend([os::new("--pdf"), pdf.as_os_str()]);
    }
    let (code, text) = cli(&args);
    assert_eq!(code, Some(0), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("試験実施報告書") && page.contains("0043"),
        "{page}"
    );
    if sqlexam_export::report::find_browser().is_some() {
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    }

    // Imported into a server.
    let server = TestServer::start(&org.trust, 0).await;
    Api::new(&server.url).upload(&server.organizer, &org).await;
    let import = |token: &str| {
        let mut args = vec![os::new("bundle"), os::new("import")];
        args.extend(bundles.iter().map(|b| b.as_os_str()));
        args.extend([
            os::new("--server"),
            os::new(&server.url),
            os::new("--token"),
            os::new(token),
        ]);
        cli(&args)
    };
    let (code, text) = tokio::task::block_in_place(|| import(&server.venue));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("already held"), "{text}");
    let (code, text) = tokio::task::block_in_place(|| import("wrong-token"));
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("unauthorized"), "{text}");
    server.stop().await;
}
