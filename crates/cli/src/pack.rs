//! `sqlexam pack build | verify | inspect`, and opening a pack for `grade`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use sqlexam_core::encoding::parse_time;
use sqlexam_core::pack::{
    BuildOptions, Endorsement, Pack, PackError, PackInfo, TrustPath, VerifiedPack, VerifyOptions,
    build, verify,
};
use sqlexam_core::problem::read_pack_source;
use time::OffsetDateTime;

use crate::check::{self, Report};
use crate::home::{Home, write_atomic};
use crate::keys::read_signing_key;

pub struct BuildArgs<'a> {
    pub source: &'a Path,
    pub key: &'a Path,
    pub endorsements: &'a [std::path::PathBuf],
    pub start_code: Option<&'a str>,
    pub proctor_passphrase: Option<&'a str>,
    pub not_before: &'a str,
    pub not_after: &'a str,
    pub created: Option<&'a str>,
    pub out: &'a Path,
}

fn time_arg(flag: &str, text: &str) -> anyhow::Result<OffsetDateTime> {
    parse_time(text).with_context(|| {
        format!("{flag} {text:?} is not an RFC 3339 time like 2026-12-01T09:00:00Z")
    })
}

pub fn build_pack(a: &BuildArgs<'_>) -> anyhow::Result<ExitCode> {
    let key = read_signing_key(a.key)?;
    let not_before = time_arg("--not-before", a.not_before)?;
    let not_after = time_arg("--not-after", a.not_after)?;
    let created = match a.created {
        Some(c) => time_arg("--created", c)?,
        None => not_before,
    };
    let mut endorsements = Vec::new();
    for path in a.endorsements {
        let text =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let e: Endorsement = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not an endorsement", path.display()))?;
        endorsements.push(e);
    }
    // A pack is built only from problems whose data is proven: problem check first.
    let source = read_pack_source(a.source)?;
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    for dir in &source.problem_dirs {
        let (report, problem) = check::check_problem(dir, Some(&source.defaults));
        problems.extend(problem);
        reports.push(report);
    }
    let report = Report {
        ok: reports.iter().all(|r| r.ok),
        problems: reports,
    };
    if !report.ok {
        say_err_part!("{}", check::human(&report));
        bail!(
            "{}: problem check failed, so no pack was built",
            a.source.display()
        );
    }
    let options = BuildOptions {
        key: &key,
        endorsements,
        start_code: a.start_code.map(str::to_owned),
        exam: source.exam,
        proctor_passphrase: a.proctor_passphrase.map(str::to_owned),
        created,
        not_before,
        not_after,
    };
    let bytes = build(
        &source.id,
        &source.version,
        &source.title,
        &problems,
        &options,
    )?;
    write_atomic(a.out, &bytes, false)?;
    say!(
        "built {} ({} {}, {} problems, {} bytes, {}, signed by {})",
        a.out.display(),
        source.id,
        source.version,
        problems.len(),
        bytes.len(),
        if a.start_code.is_some() {
            "sealed"
        } else {
            "not sealed"
        },
        key.public().key_id()
    );
    Ok(ExitCode::SUCCESS)
}

/// Verifies a pack file against the trust store and the versions seen, and records its
/// version as seen.
pub fn verify_file(
    home: &Home,
    path: &Path,
    start_code: Option<&str>,
) -> anyhow::Result<VerifiedPack> {
    let trust = home.trust()?;
    let mut ledger = home.ledger()?;
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let options = VerifyOptions {
        trust: &trust,
        now: OffsetDateTime::now_utc(),
        ledger: Some(&ledger),
        start_code,
    };
    let verified = verify(BufReader::with_capacity(1 << 20, file), &options)
        .with_context(|| format!("{}: refused", path.display()))?;
    if let Ok(version) = semver::Version::parse(&verified.manifest.version) {
        ledger.record(&verified.manifest.id, &version, &verified.hash)?;
    }
    Ok(verified)
}

/// A verified pack, opened (unsealed with `start_code` when sealed).
pub fn open_file(home: &Home, path: &Path, start_code: Option<&str>) -> anyhow::Result<Pack> {
    let verified = verify_file(home, path, start_code)?;
    verified
        .open(start_code)
        .with_context(|| format!("{}: cannot open", path.display()))
}

pub fn verify_cmd(home: &Home, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    match verify_file(home, path, None) {
        Ok(v) => {
            print_info(&v.info(), json)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.downcast_ref::<PackError>().is_some() => {
            let code = e.downcast_ref::<PackError>().map_or("", PackError::code);
            if json {
                say!(
                    "{}",
                    serde_json::json!({ "ok": false, "code": code, "error": format!("{e:#}") })
                );
            } else {
                say!("REFUSED: {e:#}");
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e),
    }
}

pub fn inspect_cmd(
    home: &Home,
    path: &Path,
    start_code: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let verified = verify_file(home, path, start_code)?;
    let info = if verified.is_sealed() && start_code.is_none() {
        verified.info()
    } else {
        verified
            .open(start_code)
            .with_context(|| format!("{}: cannot open", path.display()))?
            .info
    };
    print_info(&info, json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_info(info: &PackInfo, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(info)?);
        return Ok(());
    }
    say!(
        "pack {} {} — {} / {}",
        info.id,
        info.version,
        info.title.en,
        info.title.ja
    );
    let trust = match &info.trust_path {
        TrustPath::Anchor { key_id, name } => format!("key {key_id} ({name}), a trusted key"),
        TrustPath::Endorsed {
            key_id,
            name,
            by,
            by_name,
            until,
        } => {
            format!("key {key_id} ({name}), endorsed by trusted key {by} ({by_name}) until {until}")
        }
    };
    say!("  verified: signature good; signed by {trust}");
    say!(
        "  valid {} to {} (created {})",
        info.not_before,
        info.not_after,
        info.created
    );
    say!("  hash sha256:{}", info.hash);
    say!(
        "  {} entries, {} bytes; built by grader {} on SQLite {}",
        info.entries,
        info.bytes,
        info.grader_version,
        info.sqlite_version
    );
    match &info.problems {
        None if info.sealed => {
            say!("  sealed: the problems stay hidden until the start code is given")
        }
        None => say!("  not sealed (sqlexam pack inspect lists its problems)"),
        Some(problems) => {
            say!(
                "  {}{} problems:",
                if info.sealed { "unsealed; " } else { "" },
                problems.len()
            );
            for p in problems {
                say!(
                    "    {:32} {:>4} points  {} datasets  {}",
                    p.id,
                    p.points,
                    p.datasets,
                    p.title.en
                );
            }
        }
    }
    Ok(())
}
