//! `sqlexam bundle`: a proctor's signed results bundle — create it from this machine's
//! store (with the results for people beside it), check it offline, turn bundles of several
//! machines into one set of results or one session report, and import it into a server
//! (docs/export-format.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::encoding::format_time;
use sqlexam_core::record::{Expectations, verify_records};
use sqlexam_export::Lang;
use sqlexam_export::bundle::{self, Bundle, BundleReport, Known};
use sqlexam_export::machine::{self, Request};
use sqlexam_export::report::{ReportFacts, print_pdf, report_html};
use sqlexam_export::results::{Results, from_records};
use sqlexam_export::table::{results_csv, results_xlsx};

use crate::BadInput;
use crate::home::Home;

fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

fn read_bundle(path: &Path) -> anyhow::Result<Bundle> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Bundle> {
    bundle::parse(bytes)
        .map_err(|e| anyhow::Error::new(BadInput(format!("{}: {e}", path.display()))))
}

pub struct CreateArgs<'a> {
    /// The engine directory, or (with `relay`) a relay's data folder.
    pub dir: &'a Path,
    pub relay: bool,
    pub pack: Option<&'a str>,
    pub passphrase: &'a str,
    pub venue: &'a str,
    pub lang: Lang,
    pub out: &'a Path,
    pub pdf: bool,
    pub json: bool,
}

/// `sqlexam bundle create`: the bundle and the results of this machine, into a folder.
pub fn create(a: &CreateArgs<'_>) -> anyhow::Result<ExitCode> {
    let now = now();
    let req = Request {
        dir: a.dir,
        pack: a.pack,
        passphrase: a.passphrase,
        venue: a.venue,
        lang: a.lang,
        out: a.out,
        now: &now,
        pdf: a.pdf,
    };
    let done = if a.relay {
        sqlexam_relay::room_export(a.dir, &req).map_err(|e| sqlexam_core::error_chain(&e))
    } else {
        machine::export(&req).map_err(|e| sqlexam_core::error_chain(&e))
    }
    .map_err(|e| anyhow::Error::new(BadInput(e)))?;
    if a.json {
        say!(
            "{}",
            serde_json::json!({
                "pack": done.pack,
                "records": done.records,
                "sessions": done.sessions,
                "fingerprint": done.fingerprint,
                "files": done.files,
                "pdf_error": done.pdf_error,
            })
        );
    } else {
        say!(
            "{} records of {} sessions ({} {}), signed by the proctor; fingerprint {}",
            done.records,
            done.sessions,
            done.pack.id,
            done.pack.version,
            done.fingerprint
        );
        for f in &done.files {
            say!("  wrote {}", f.display());
        }
    }
    if let Some(e) = &done.pdf_error {
        say_err!("sqlexam bundle create: no PDF report: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The hash and proctor key of a pack file signed by a trusted organizer.
fn trusted_pack(home: &Home, path: &Path) -> anyhow::Result<(String, Option<PublicKey>)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let pack = sqlexam_core::pack::verify_in_window(&bytes, &home.trust()?, None)
        .map_err(|e| anyhow::Error::new(BadInput(format!("{}: {e}", path.display()))))?;
    let key = pack.manifest.proctor_public_key();
    Ok((pack.hash, key))
}

/// `sqlexam bundle verify`: everything the bundle claims, checked offline.
pub fn verify(
    home: &Home,
    file: &Path,
    pack: Option<&Path>,
    start_code: Option<&str>,
    server_keys: &[PathBuf],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let bundle = read_bundle(file)?;
    let known = Known {
        pack: pack.map(|p| trusted_pack(home, p)).transpose()?,
        server_keys: server_keys
            .iter()
            .map(|k| crate::sync::read_key(k))
            .collect::<anyhow::Result<_>>()?,
    };
    let mut report = bundle::verify(&bundle, &known);
    // Who sat: each session against the pack's roster, when the start code opens it.
    let rosters = match (pack, start_code) {
        (Some(p), Some(code)) => crate::pack::rosters(home, &[p.to_owned()], code)?,
        _ => Default::default(),
    };
    let parsed: Vec<sqlexam_core::record::Record> = bundle
        .records
        .iter()
        .filter_map(|r| serde_json::from_slice(&r.bytes).ok())
        .collect();
    let proctor_keys = known.pack.iter().cloned().collect();
    let admitted = sqlexam_core::record::admissions(&parsed, &rosters, &proctor_keys);
    report
        .problems
        .extend(admitted.iter().filter_map(|a| a.problem()));
    if json {
        let mut value = report_json(&report);
        value["admissions"] = serde_json::to_value(&admitted)?;
        say!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        for line in proves(&report) {
            say!("{line}");
        }
        for line in crate::pack::admission_lines(&admitted) {
            say!("{line}");
        }
        for p in &report.problems {
            say!("PROBLEM: {p}");
        }
        say!(
            "{}",
            if report.ok() {
                "the bundle verifies"
            } else {
                "THE BUNDLE DOES NOT VERIFY"
            }
        );
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report_json(r: &BundleReport) -> serde_json::Value {
    serde_json::json!({
        "ok": r.ok(),
        "fingerprint": r.fingerprint,
        "pack": r.manifest.pack,
        "venue": r.manifest.venue,
        "created_at": r.manifest.created_at,
        "proctor_key": r.proctor_key_id,
        "signature_valid": r.signature_valid,
        "pack_key_matches": r.pack_key_matches,
        "records": r.records,
        "sessions": r.sessions,
        "candidates": r.candidates,
        "devices": r.devices,
        "findings": r.findings,
        "receipts": r.servers.iter().map(|s| serde_json::json!({
            "url": s.url,
            "server_key": s.key_id,
            "key_given": s.key_trusted,
            "checkpoints": s.report.checkpoints.values().sum::<usize>(),
            "proven": s.report.proven,
            "log_size": s.log_size,
        })).collect::<Vec<_>>(),
        "problems": r.problems,
    })
}

/// What the bundle proves, and what it does not, in sentences.
fn proves(r: &BundleReport) -> Vec<String> {
    let m = &r.manifest;
    let mut out = vec![format!(
        "bundle {} of {} {} ({}), venue {:?}, made {}",
        r.fingerprint, m.pack.id, m.pack.version, m.pack.hash, m.venue, m.created_at
    )];
    out.push(match (r.signature_valid, r.pack_key_matches) {
        (true, Some(true)) => format!(
            "signed by the pack's proctor key {} (checked against the trusted pack file)",
            r.proctor_key_id
        ),
        (true, None) => format!(
            "signed by proctor key {}, which the bundle names: give --pack to check it is the pack's",
            r.proctor_key_id
        ),
        _ => "NOT signed by the pack's proctor key".into(),
    });
    let bad = r.findings.len();
    out.push(format!(
        "{} records of {} sessions ({} candidates on {} devices){}",
        r.records,
        r.sessions,
        r.candidates,
        r.devices,
        if bad == 0 {
            ": every record signed by its device, every chain unbroken from its first record"
        } else {
            ""
        }
    ));
    for s in &r.servers {
        out.push(format!(
            "{} records proven held by server {} ({}) in its log of {} records{}",
            s.report.proven,
            s.key_id,
            s.url,
            s.log_size,
            if s.key_trusted {
                ""
            } else {
                " — with the key the bundle names; give --server-key to check it is the server's"
            }
        ));
    }
    out.push(
        "it does not prove that a machine wrote nothing after the export: only a server's later receipts can show that"
            .into(),
    );
    out
}

/// The results of one or more bundles (several machines of a venue): each must verify,
/// their records count once. Returns the results and the bundles.
fn merged(files: &[PathBuf]) -> anyhow::Result<(Results, Vec<Bundle>)> {
    let mut bundles = Vec::new();
    for f in files {
        let b = read_bundle(f)?;
        let report = bundle::verify(&b, &Known::default());
        if !report.ok() {
            return Err(anyhow::Error::new(BadInput(format!(
                "{}: the bundle does not verify ({}); check it with sqlexam bundle verify",
                f.display(),
                report.problems.join("; ")
            ))));
        }
        bundles.push(b);
    }
    let sets: Vec<&[_]> = bundles.iter().map(|b| b.records.as_slice()).collect();
    let records = bundle::merge_records(&sets);
    let (verified, findings) = verify_records(&records, &Expectations::default());
    if let Some(f) = findings.first() {
        return Err(anyhow::Error::new(BadInput(format!(
            "the bundles disagree with each other: {f}"
        ))));
    }
    let mut all: Vec<Results> = from_records(&verified, &venue_of(&bundles), &now());
    if all.len() != 1 {
        return Err(anyhow::Error::new(BadInput(
            "the bundles are of different packs: give the bundles of one exam".into(),
        )));
    }
    let mut results = all.remove(0);
    results.source = "bundle".into();
    Ok((results, bundles))
}

/// The bundles' venue, when they agree on one.
fn venue_of(bundles: &[Bundle]) -> String {
    let venues: std::collections::BTreeSet<&str> =
        bundles.iter().map(|b| b.manifest.venue.as_str()).collect();
    match venues.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => (*one).to_owned(),
        _ => String::new(),
    }
}

/// `sqlexam bundle results`: the results of bundles as CSV, XLSX or JSON.
pub fn results(files: &[PathBuf], out: &Path, lang: Lang) -> anyhow::Result<ExitCode> {
    let (results, bundles) = merged(files)?;
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let bytes = match ext {
        "csv" => results_csv(&results, lang).into_bytes(),
        "xlsx" => results_xlsx(&results, lang).map_err(|e| anyhow::anyhow!(e))?,
        "json" => serde_json::to_vec_pretty(&results)?,
        _ => {
            return Err(anyhow::Error::new(BadInput(format!(
                "{}: the output's extension says its format: .csv, .xlsx or .json",
                out.display()
            ))));
        }
    };
    sqlexam_core::fsutil::write_atomic(out, &bytes, false)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    say!(
        "{} candidates from {} bundles: wrote {}",
        results.candidates.len(),
        bundles.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `sqlexam bundle report`: the printable session report of bundles (a room), as HTML and,
/// with `pdf`, PDF.
pub fn report(
    files: &[PathBuf],
    out: &Path,
    pdf: Option<&Path>,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let (results, bundles) = merged(files)?;
    let fingerprints: Vec<String> = bundles.iter().map(Bundle::fingerprint).collect();
    let html = report_html(
        &results,
        &ReportFacts {
            venue: &venue_of(&bundles),
            fingerprints: &fingerprints,
        },
        lang,
    );
    sqlexam_core::fsutil::write_atomic(out, html.as_bytes(), false)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    say!("wrote {}", out.display());
    if let Some(pdf) = pdf {
        print_pdf(out, pdf)
            .map_err(|e| anyhow::Error::new(BadInput(sqlexam_core::error_chain(&e))))?;
        say!("wrote {}", pdf.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `sqlexam bundle import`: each bundle to a server, as a sync by hand. Exits 1 when a
/// bundle's receipts contradict the server's log, or records were refused.
pub fn import(
    files: &[PathBuf],
    url: &str,
    token: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let client = crate::sync::client(url, token)?;
    let runtime = crate::sync::runtime()?;
    let mut ok = true;
    let mut answers = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?;
        // Read here first: a file that is no bundle is named before anything is sent.
        parse(f, &bytes)?;
        let answer = runtime
            .block_on(client.post_bundle(bytes))
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let stored: u64 = answer.sessions.iter().map(|s| s.stored).sum();
        let already: u64 = answer.sessions.iter().map(|s| s.already_stored).sum();
        let forks: usize = answer.sessions.iter().map(|s| s.forks.len()).sum();
        let gaps = answer.sessions.iter().filter(|s| s.gap.is_some()).count();
        ok &= answer.contradictions.is_empty() && answer.rejected.is_empty();
        if !json {
            say!(
                "{}: {} records of {} sessions ({} {}, venue {:?}): {stored} new, {already} already held",
                f.display(),
                answer.records,
                answer.sessions.len(),
                answer.pack.id,
                answer.pack.version,
                answer.venue
            );
            if answer.proctor != "verified" {
                say!(
                    "  the server does not hold this pack yet: the proctor's signature was not checked against it (the records' own signatures were)"
                );
            }
            if forks > 0 || gaps > 0 {
                say!(
                    "  FLAGGED: {forks} forks, {gaps} sessions with missing records (see the dashboard)"
                );
            }
            for r in &answer.rejected {
                say!(
                    "  REFUSED record line {}: {} ({})",
                    r.line,
                    r.message,
                    r.code
                );
            }
            for c in &answer.contradictions {
                say_err!("  !!! THE BUNDLE'S RECEIPTS CONTRADICT THE SERVER'S LOG: {c}");
            }
        }
        answers.push(answer);
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&answers)?);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
