//! `sqlexam session …`: the candidate-side engine from the command line — start a session,
//! submit, proctor actions, and read-only `show`, `verify` and `export` of a store.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlexam_core::pack::signed_manifest;
use sqlexam_core::record::{Expectations, Finding, ProctorAction, SignedRecord, parse_export};
use sqlexam_core::session::{
    Engine, EngineEvent, SessionError, SystemClock, default_dir, read_store_records,
    store_expectations, store_path, summaries, verify_report,
};

use crate::home::Home;
use crate::lang::Lang;
use crate::render;
use sqlexam_i18n::k;

/// The engine directory: `--dir`, else `$SQLEXAM_HOME`, else the platform data directory.
pub fn engine_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(d) => Ok(d.to_owned()),
        None => default_dir()
            .context("cannot find a data directory for sqlexam; set SQLEXAM_HOME or pass --dir"),
    }
}

pub fn open_engine(home: &Home, dir: &Path) -> anyhow::Result<Engine> {
    Ok(Engine::open(
        dir,
        home.trust()?,
        Arc::new(SystemClock::default()),
    )?)
}

pub fn start(
    home: &Home,
    dir: &Path,
    pack: &Path,
    code: Option<&str>,
    candidate: &str,
    name: &str,
    admit: sqlexam_core::session::Admit<'_>,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(pack).with_context(|| format!("{}: cannot read", pack.display()))?;
    let engine = open_engine(home, dir)?;
    let id = engine.start_admitted(&bytes, code, candidate, name, admit)?;
    say!("{id}");
    Ok(ExitCode::SUCCESS)
}

pub fn submit(
    home: &Home,
    dir: &Path,
    session: &str,
    problem: &str,
    sql: &str,
    lang: Lang,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let engine = open_engine(home, dir)?;
    let events = engine.subscribe();
    let id = match engine.submit(session, problem, sql) {
        Ok(id) => id,
        Err(e @ (SessionError::TimeUp | SessionError::Ended | SessionError::Interrupted)) => {
            say!(
                "{}",
                lang.text(k::CLI__REFUSED).to_owned() + &render::session_error(&e, lang)
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    loop {
        match events.recv_timeout(Duration::from_secs(600)) {
            Ok(EngineEvent::Graded {
                submission,
                grading,
                ..
            }) if submission == id => {
                if json {
                    println!("{}", serde_json::to_string_pretty(&grading)?);
                } else {
                    say_part!("{}", render::grading(&grading, lang));
                }
                return Ok(
                    if grading.verdict == sqlexam_core::grade::Verdict::Accepted {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    },
                );
            }
            Ok(_) => {}
            Err(_) => bail!("submission {id} was not graded in time; it stays queued in the store"),
        }
    }
}

pub fn proctor(
    home: &Home,
    dir: &Path,
    session: &str,
    passphrase: &str,
    action: ProctorAction,
) -> anyhow::Result<ExitCode> {
    let engine = open_engine(home, dir)?;
    engine.proctor(session, passphrase, action)?;
    let v = engine.view(session)?;
    say!(
        "{}: {:?}, {} of {} minutes used",
        v.id,
        v.state,
        v.elapsed_ms / 60_000,
        v.duration_ms / 60_000
    );
    Ok(ExitCode::SUCCESS)
}

/// `sqlexam session burst`: submits `count` copies of a query as fast as it can, printing
/// `ack <id>` as each is accepted into the store; `drain` grades what is queued. Used by the
/// crash-safety tests, which kill a burst with SIGKILL at random moments.
/// What `session burst` submits.
pub struct Burst<'a> {
    pub pack: &'a Path,
    pub start_code: Option<&'a str>,
    pub passphrase: &'a str,
    pub problem: &'a str,
    pub sql: &'a str,
    pub count: usize,
}

pub fn burst(home: &Home, dir: &Path, b: &Burst<'_>) -> anyhow::Result<ExitCode> {
    let engine = open_engine(home, dir)?;
    let session = match engine.sessions()?.into_iter().next() {
        Some(s) => s.id,
        None => {
            let bytes = std::fs::read(b.pack)
                .with_context(|| format!("{}: cannot read", b.pack.display()))?;
            engine.start_session(&bytes, b.start_code, "burst", "Burst")?
        }
    };
    if engine.view(&session)?.state == sqlexam_core::session::SessionState::Interrupted {
        engine.proctor(&session, b.passphrase, ProctorAction::Resume)?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "session {session}")?;
    out.flush()?;
    for _ in 0..b.count {
        let id = engine.submit(&session, b.problem, b.sql)?;
        writeln!(out, "ack {id}")?;
        out.flush()?;
    }
    engine.wait_idle(Duration::from_secs(600));
    Ok(ExitCode::SUCCESS)
}

pub fn drain(home: &Home, dir: &Path) -> anyhow::Result<ExitCode> {
    let engine = open_engine(home, dir)?;
    if !engine.wait_idle(Duration::from_secs(600)) {
        bail!("the queue did not empty within 10 minutes");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let list = summaries(&store_path(dir))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    say!("store {}", store_path(dir).display());
    if list.is_empty() {
        say!("  no sessions");
    }
    for s in &list {
        say!(
            "  {}  {} ({})  pack {} {}  {:?}  {}/{} min  score {}  {} submissions  {} records, {} not synced",
            s.id,
            s.candidate_id,
            s.candidate_name,
            s.pack_id,
            s.pack_version,
            s.state,
            s.elapsed_ms / 60_000,
            s.duration_ms / 60_000,
            s.score,
            s.submissions,
            s.records,
            s.unsynced
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Records from a store (its folder or its file), or from an export (one JSON object per
/// line, lines that are not records being findings), with what verifying them expects: a
/// store's own device and the proctor keys of its pack copies, or for an export the proctor
/// keys of the packs given.
fn load_records(
    path: &Path,
    packs: &[PathBuf],
) -> anyhow::Result<(Vec<SignedRecord>, Vec<Finding>, Expectations)> {
    let store_dir = if path.is_dir() {
        Some(path.to_owned())
    } else {
        let mut head = [0u8; 16];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .with_context(|| format!("{}: cannot read", path.display()))?;
        (head[..n] == *b"SQLite format 3\0")
            .then(|| path.parent().unwrap_or(Path::new(".")).to_owned())
    };
    let (records, findings, mut expect) = match store_dir {
        Some(dir) => {
            let file = if path.is_dir() {
                store_path(path)
            } else {
                path.to_owned()
            };
            let records = read_store_records(&file)?;
            let expect = store_expectations(&dir, &records, None);
            (records, Vec::new(), expect)
        }
        None => {
            let bytes =
                std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{}: neither a store nor an export", path.display()))?;
            let (records, findings) = parse_export(&text);
            (records, findings, Expectations::default())
        }
    };
    for pack in packs {
        let file = std::fs::File::open(pack)
            .with_context(|| format!("{}: cannot read", pack.display()))?;
        let (manifest, hash) = signed_manifest(std::io::BufReader::new(file))
            .with_context(|| format!("{}: not a signed pack", pack.display()))?;
        expect
            .proctor_keys
            .insert(hash, manifest.proctor_public_key());
    }
    Ok((records, findings, expect))
}

pub fn verify(
    home: &Home,
    path: &Path,
    packs: &[PathBuf],
    start_code: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (records, unparsable, expect) = load_records(path, packs)?;
    let mut report = verify_report(&records, &expect);
    report.records += unparsable.len();
    report.findings.splice(0..0, unparsable);
    // Who sat: each session against its pack's roster, when the start code opens it.
    let rosters = match start_code {
        Some(code) => crate::pack::rosters(home, packs, code)?,
        None => Default::default(),
    };
    let parsed: Vec<sqlexam_core::record::Record> = records
        .iter()
        .filter_map(|r| serde_json::from_slice(&r.bytes).ok())
        .collect();
    let admitted = sqlexam_core::record::admissions(&parsed, &rosters, &expect.proctor_keys);
    let admission_problems: Vec<String> = admitted.iter().filter_map(|a| a.problem()).collect();
    let ok = report.findings.is_empty() && admission_problems.is_empty();
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["admissions"] = serde_json::to_value(&admitted)?;
        value["admission_problems"] = serde_json::to_value(&admission_problems)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        say!("{} records in {} sessions", report.records, report.sessions);
        for line in crate::pack::admission_lines(&admitted) {
            say!("  {line}");
        }
        for f in &report.findings {
            say!("  PROBLEM: {f}");
        }
        for p in &admission_problems {
            say!("  PROBLEM: {p}");
        }
        if report.findings.is_empty() {
            say!("  every signature verifies; every chain is contiguous; no forks");
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn export(dir: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let records = read_store_records(&store_path(dir))?;
    let text: String = records.iter().map(|r| r.to_export_line() + "\n").collect();
    match out {
        Some(path) => sqlexam_core::fsutil::write_atomic(path, text.as_bytes(), false)
            .with_context(|| format!("{}: cannot write", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
