//! A proctor exports a machine after the exam: the signed bundle verifies offline and says
//! what it proves, any change to it is caught and named, the spreadsheets show what the
//! candidate scored in a form Excel cannot mangle, and exporting again or from several
//! machines never counts anything twice.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;

use sqlexam_core::ErrorCode;
use sqlexam_core::pack::signed_manifest;
use sqlexam_core::problem::Expectation;
use sqlexam_core::record::{Expectations, verify_records};
use sqlexam_export::Lang;
use sqlexam_export::bundle::{self, Known};
use sqlexam_export::machine::{self, Exported, Request};
use sqlexam_export::results::Results;
use sqlexam_tests::{Machine, Organizer, PASSPHRASE, organizer, proctor_export};

fn export(m: &Machine, out: &Path, passphrase: &str, lang: Lang) -> Result<Exported, String> {
    proctor_export(m, out, passphrase, lang, false).map_err(|e| e.code().to_owned())
}

/// The pack's hash and proctor key, as a verifier holding the pack file knows them.
fn known(org: &Organizer) -> Known {
    let (manifest, hash) = signed_manifest(&org.pack[..]).unwrap();
    Known {
        pack: Some((hash, manifest.proctor_public_key())),
        server_keys: Vec::new(),
    }
}

/// Candidate `id`: problem 0 right, problem 1 wrong then right, problem 2 wrong.
fn sit(org: &Organizer, id: &str) -> Machine {
    let answers = vec![
        (
            org.problems[0].id.clone(),
            org.answer(0, Expectation::Accepted),
        ),
        (
            org.problems[1].id.clone(),
            org.answer(1, Expectation::WrongAnswer),
        ),
        (
            org.problems[1].id.clone(),
            org.answer(1, Expectation::Accepted),
        ),
        (
            org.problems[2].id.clone(),
            org.answer(2, Expectation::WrongAnswer),
        ),
    ];
    Machine::exam(org, id, &answers)
}

/// Candidate c-1, with the first problem answered right.
fn answered_once(org: &Organizer) -> Machine {
    let answer = (
        org.problems[0].id.clone(),
        org.answer(0, Expectation::Accepted),
    );
    Machine::exam(org, "c-1", &[answer])
}

fn file_with(files: &[std::path::PathBuf], suffix: &str) -> std::path::PathBuf {
    files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {files:?}"))
        .clone()
}

#[test]
fn a_proctor_exports_a_machine_and_the_bundle_proves_its_records() {
    let org = organizer(3);
    let m = sit(&org, "007");
    let out = tempfile::tempdir().unwrap();
    let done = export(&m, out.path(), PASSPHRASE, Lang::Ja).unwrap();
    let records = m.engine.records().unwrap();
    assert_eq!(done.records, records.len());
    assert_eq!(done.files.len(), 5, "{:?}", done.files);

    // The bundle: the engine's records verbatim, signed by the pack's proctor key.
    let bytes = std::fs::read(file_with(&done.files, ".sqlexam-bundle")).unwrap();
    let b = bundle::parse(&bytes).unwrap();
    assert_eq!(b.records, records);
    let report = bundle::verify(&b, &known(&org));
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.pack_key_matches, Some(true));
    assert_eq!(
        (report.sessions, report.candidates, report.devices),
        (1, 1, 1)
    );
    assert_eq!(report.manifest.venue, "Room 3");
    assert_eq!(report.manifest.roster[0].candidate, "007");
    assert_eq!(report.fingerprint, done.fingerprint);
    // Its record lines are a sync batch as they stand.
    let body = String::from_utf8(b.body.clone()).unwrap();
    assert_eq!(body, sqlexam_tests::ndjson(&records));

    // The JSON results: problem 0 and 1 at full score, problem 2 at none.
    let json = std::fs::read(file_with(&done.files, "-results.json")).unwrap();
    let results: Results = serde_json::from_slice(&json).unwrap();
    assert_eq!(results, done.results);
    let c = &results.candidates[0];
    assert_eq!(c.candidate, "007");
    let full: Vec<u32> = org.problems.iter().map(|p| p.points).collect();
    let scores: Vec<u32> = c.problems.iter().map(|p| p.score).collect();
    assert_eq!(scores, vec![full[0], full[1], 0]);
    assert_eq!(c.total, full[0] + full[1]);
    assert_eq!(c.attempts, 4);
    assert_eq!(c.problems[1].attempts, 2);

    // The CSV: a byte-order mark, Japanese headers, the id with its zeros kept.
    let csv = std::fs::read_to_string(file_with(&done.files, "-results.csv")).unwrap();
    assert!(
        csv.starts_with("\u{feff}受験者ID,氏名,会場,問題,得点"),
        "{csv}"
    );
    assert!(
        csv.contains("\"=\"\"007\"\"\",Candidate 007,Room 3,"),
        "{csv}"
    );
    assert!(csv.contains("(合計)"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3 + 1, "{csv}");

    // The workbook: three sheets, headers frozen and filtered, the id stored as text.
    let xlsx = std::fs::read(file_with(&done.files, "-results.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut book = String::new();
    zip.by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut book)
        .unwrap();
    for name in ["集計", "詳細", "出来事"] {
        assert!(book.contains(name), "{book}");
    }
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(sheet.contains("state=\"frozen\""), "{sheet}");
    assert!(sheet.contains("<autoFilter"), "{sheet}");
    assert!(sheet.contains("<cols>"), "{sheet}");
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(strings.contains(">007<"), "{strings}");

    // The session report, in Japanese: the venue, the candidate and the bundle's fingerprint.
    let report = std::fs::read_to_string(file_with(&done.files, "-report.html")).unwrap();
    assert!(report.contains("試験実施報告書"), "{report}");
    for text in ["Room 3", "007", "Candidate 007", &done.fingerprint] {
        assert!(report.contains(text), "{text} missing: {report}");
    }
}

#[test]
fn the_report_is_printed_to_pdf_where_a_browser_is_installed() {
    let org = organizer(1);
    let m = answered_once(&org);
    let tmp = tempfile::tempdir().unwrap();
    // A folder name a URL must escape.
    let out = tmp.path().join("Exam #2 100% 試験");
    let done = proctor_export(&m, &out, PASSPHRASE, Lang::En, true).unwrap();
    match sqlexam_export::report::find_browser() {
        Some(_) => {
            assert_eq!(done.pdf_error, None);
            let pdf = std::fs::read(file_with(&done.files, "-report.pdf")).unwrap();
            assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        }
        None => {
            let why = done.pdf_error.unwrap();
            assert!(why.contains("print it"), "{why}");
            assert!(
                !done
                    .files
                    .iter()
                    .any(|f| f.to_string_lossy().ends_with(".pdf"))
            );
        }
    }
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn exporting_again_replaces_the_files_and_merging_machines_counts_each_record_once() {
    let org = organizer(3);
    let a = sit(&org, "c-1");
    let b = sit(&org, "c-2");
    let stick = tempfile::tempdir().unwrap();
    let first = export(&a, stick.path(), PASSPHRASE, Lang::En).unwrap();
    a.submit(&[(
        org.problems[2].id.clone(),
        org.answer(2, Expectation::Accepted),
    )]);
    let again = export(&a, stick.path(), PASSPHRASE, Lang::En).unwrap();
    assert_eq!(
        first.files, again.files,
        "the same names: replaced, not added"
    );
    assert_eq!(again.records, first.records + 1);
    let other = export(&b, stick.path(), PASSPHRASE, Lang::En).unwrap();
    let names = std::fs::read_dir(stick.path()).unwrap().count();
    assert_eq!(names, 10, "five files per machine, nothing else");

    // The first export kept elsewhere, then all three bundles together: each record once.
    let old = tempfile::tempdir().unwrap();
    let kept = export(&a, old.path(), PASSPHRASE, Lang::En).unwrap();
    let bundles: Vec<_> = [&kept, &again, &other]
        .iter()
        .map(|e| {
            bundle::parse(&std::fs::read(file_with(&e.files, ".sqlexam-bundle")).unwrap()).unwrap()
        })
        .collect();
    let sets: Vec<&[_]> = bundles.iter().map(|b| b.records.as_slice()).collect();
    let merged = bundle::merge_records(&sets);
    assert_eq!(
        merged.len(),
        a.engine.records().unwrap().len() + b.engine.records().unwrap().len()
    );
    let (_, findings) = verify_records(&merged, &Expectations::default());
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn a_changed_bundle_is_caught_and_named() {
    let org = organizer(3);
    let m = sit(&org, "c-1");
    let out = tempfile::tempdir().unwrap();
    let done = export(&m, out.path(), PASSPHRASE, Lang::En).unwrap();
    let bytes = std::fs::read(file_with(&done.files, ".sqlexam-bundle")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let pack = known(&org);
    let check = |text: &str| bundle::verify(&bundle::parse(text.as_bytes()).unwrap(), &pack);

    // A score raised in a record: its signature and the signed digest both fail.
    let raised = text.replacen("\\\"score\\\":0", "\\\"score\\\":100", 1);
    assert_ne!(raised, text);
    let r = check(&raised);
    assert!(!r.ok());
    assert!(
        r.problems.iter().any(|p| p.contains("not the ones signed")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("signature")),
        "{:?}",
        r.problems
    );

    // A record dropped from the end: the digest and the count say so.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    let r = check(&(lines.join("\n") + "\n"));
    assert!(
        r.problems.iter().any(|p| p.contains("counts")),
        "{:?}",
        r.problems
    );

    // The venue changed in the manifest: the proctor's signature no longer holds.
    let moved = text.replacen("Room 3", "Room 4", 1);
    let r = check(&moved);
    assert!(!r.signature_valid);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("signature does not verify")),
        "{:?}",
        r.problems
    );

    // Checked against another exam's pack: refused, naming both.
    let other = organizer(3);
    let r = bundle::verify(&bundle::parse(text.as_bytes()).unwrap(), &known(&other));
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("not of the pack given")),
        "{:?}",
        r.problems
    );

    // Not a bundle at all: the error names the line.
    let e = bundle::parse(b"{\"bytes\":\"x\"}\n").unwrap_err();
    assert!(e.to_string().starts_with("line 1:"), "{e}");
}

#[test]
fn only_the_proctor_passphrase_signs_an_export() {
    let org = organizer(1);
    let m = answered_once(&org);
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        export(&m, out.path(), "not-the-passphrase", Lang::En).unwrap_err(),
        "wrong_passphrase"
    );
    assert_eq!(
        std::fs::read_dir(out.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "nothing written"
    );
    let empty = tempfile::tempdir().unwrap();
    let nothing = machine::export(&Request {
        dir: empty.path(),
        pack: None,
        passphrase: PASSPHRASE,
        venue: "",
        lang: Lang::En,
        out: out.path(),
        now: "2026-11-30T12:00:00Z",
        pdf: false,
    })
    .unwrap_err();
    assert_eq!(nothing.code(), "nothing_to_export");
    assert!(
        nothing.to_string().contains("nothing to export"),
        "{nothing}"
    );
}
