//! `sqlexam pack build | verify | inspect`, and opening a pack for `grade`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use sqlexam_core::ErrorCode;
use sqlexam_core::encoding::parse_time;
use sqlexam_core::pack::{
    BuildOptions, Endorsement, Pack, PackError, PackInfo, TrustPath, VerifiedPack, VerifyOptions,
    build, check_strength, generate_passphrase, generate_start_code, verify,
};
use sqlexam_core::problem::read_pack_source;
use time::OffsetDateTime;

use crate::check::{self, Report};
use crate::home::{Home, write_atomic};
use crate::keys::read_signing_key;

/// A start code or proctor passphrase as `pack build` was told it.
pub enum Secret {
    Given(String),
    Generate,
    None,
}

impl Secret {
    /// From `--start-code X` / `--unsealed` (or the passphrase's pair of flags).
    pub fn from_args(given: Option<String>, none: bool) -> Secret {
        match (given, none) {
            (Some(s), _) => Secret::Given(s),
            (None, true) => Secret::None,
            (None, false) => Secret::Generate,
        }
    }

    /// The secret to use, and whether it was generated (and so must be shown once). A given
    /// one must be hard to guess unless `allow_weak`.
    fn resolve(
        &self,
        what: &str,
        allow_weak: bool,
        generate: fn() -> Result<String, PackError>,
    ) -> anyhow::Result<Option<(String, bool)>> {
        Ok(match self {
            Secret::Given(s) => {
                check_strength(what, s, allow_weak)?;
                Some((s.clone(), false))
            }
            Secret::Generate => Some((generate()?, true)),
            Secret::None => None,
        })
    }
}

pub struct BuildArgs<'a> {
    pub source: &'a Path,
    pub key: &'a Path,
    pub endorsements: &'a [std::path::PathBuf],
    pub start_code: Secret,
    pub proctor_passphrase: Secret,
    pub allow_weak_secrets: bool,
    pub not_before: &'a str,
    pub not_after: &'a str,
    pub created: Option<&'a str>,
    pub roster: Option<&'a Path>,
    pub out: &'a Path,
}

/// Reads a roster CSV: a header naming `candidate` and `name` (in any order, any case);
/// every other column is kept, by its header, as the candidate's settings. Errors name the
/// file and line.
fn read_roster(path: &Path) -> anyhow::Result<Vec<sqlexam_core::pack::Listed>> {
    let bad = |line: u64, what: String| {
        anyhow::Error::new(crate::BadInput(format!(
            "{}:{line}: {what}",
            path.display()
        )))
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the roster", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(1, format!("not a CSV header: {e}")))?
        .iter()
        .map(str::to_lowercase)
        .collect();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            bad(
                1,
                format!(
                    "the header has no `{name}` column (it has: {})",
                    headers.join(", ")
                ),
            )
        })
    };
    let (id_at, name_at) = (column("candidate")?, column("name")?);
    let mut listed = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            bad(line, e.to_string())
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let get = |i: usize| row.get(i).unwrap_or_default().to_owned();
        let settings = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != id_at && *i != name_at)
            .filter(|(i, _)| !get(*i).is_empty())
            .map(|(i, h)| (h.clone(), get(i)))
            .collect();
        listed.push(sqlexam_core::pack::Listed {
            candidate: get(id_at),
            name: get(name_at),
            settings,
        });
        sqlexam_core::pack::check_listed(&listed).map_err(|e| {
            bad(
                line,
                e.to_string()
                    .replace(&format!("roster entry {}", listed.len()), "this row"),
            )
        })?;
    }
    if listed.is_empty() {
        return Err(bad(2, "the roster lists no candidate".into()));
    }
    Ok(listed)
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
    let start_code =
        a.start_code
            .resolve("start code", a.allow_weak_secrets, generate_start_code)?;
    let passphrase = a.proctor_passphrase.resolve(
        "proctor passphrase",
        a.allow_weak_secrets,
        generate_passphrase,
    )?;
    let roster = match a.roster {
        None => None,
        Some(path) => {
            let listed = read_roster(path)?;
            let codes = listed
                .iter()
                .map(|_| sqlexam_core::pack::generate_admission_code())
                .collect::<Result<Vec<_>, _>>()?;
            Some((listed, codes))
        }
    };
    let options = BuildOptions {
        key: &key,
        endorsements,
        start_code: start_code.as_ref().map(|(s, _)| s.clone()),
        exam: source.exam,
        proctor_passphrase: passphrase.as_ref().map(|(s, _)| s.clone()),
        roster: roster.clone(),
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
    if let Some((listed, codes)) = &roster {
        write_slips(
            a.out,
            &source.title,
            &source.version.to_string(),
            listed,
            codes,
        )?;
    }
    say!(
        "built {} ({} {}, {} problems, {} bytes, {}, signed by {})",
        a.out.display(),
        source.id,
        source.version,
        problems.len(),
        bytes.len(),
        if start_code.is_some() {
            "sealed"
        } else {
            "not sealed"
        },
        key.public().key_id()
    );
    // Generated secrets are shown this once: neither is stored anywhere.
    if let Some((code, true)) = &start_code {
        say!("start code:          {code}   (generated: announce it at the start of the exam)");
    }
    if let Some((phrase, true)) = &passphrase {
        say!("proctor passphrase:  {phrase}   (generated: give it to the proctors only)");
    }
    if matches!(
        (&start_code, &passphrase),
        (Some((_, true)), _) | (_, Some((_, true)))
    ) {
        say!("Write these down now: they are not stored and cannot be shown again.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the admission slips beside the pack `out` (readable by this user only: they hold
/// every candidate's code, which nothing else keeps).
fn write_slips(
    out: &Path,
    title: &sqlexam_core::problem::Localized,
    version: &str,
    listed: &[sqlexam_core::pack::Listed],
    codes: &[String],
) -> anyhow::Result<()> {
    let slips: Vec<sqlexam_export::slips::Slip<'_>> = listed
        .iter()
        .zip(codes)
        .map(|(l, code)| sqlexam_export::slips::Slip {
            candidate: &l.candidate,
            name: &l.name,
            code,
        })
        .collect();
    let stem = out.with_extension("");
    let base = stem.to_string_lossy();
    let html = std::path::PathBuf::from(format!("{base}-admission-slips.html"));
    let csv = std::path::PathBuf::from(format!("{base}-admission-slips.csv"));
    write_atomic(
        &html,
        sqlexam_export::slips::slips_html(title, version, &slips).as_bytes(),
        true,
    )?;
    write_atomic(
        &csv,
        sqlexam_export::slips::slips_csv(&slips).as_bytes(),
        true,
    )?;
    say!(
        "admission slips:     {} and {} ({} candidates: print and hand them out; the codes are not stored anywhere else)",
        html.display(),
        csv.display(),
        slips.len()
    );
    Ok(())
}

/// The roster of each pack file in `packs` that has one (by pack hash), opened with
/// `start_code` after verifying the pack against the trust store.
pub fn rosters(
    home: &Home,
    packs: &[std::path::PathBuf],
    start_code: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, sqlexam_core::pack::Roster>> {
    let trust = home.trust()?;
    let mut out = std::collections::BTreeMap::new();
    for path in packs {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let refused =
            |e: PackError| anyhow::Error::new(crate::BadInput(format!("{}: {e}", path.display())));
        let verified = sqlexam_core::pack::verify_in_window(&bytes, &trust, Some(start_code))
            .map_err(refused)?;
        let hash = verified.hash.clone();
        if let Some(roster) = verified
            .open(Some(start_code))
            .map_err(refused)?
            .exam
            .roster
        {
            out.insert(hash, roster);
        }
    }
    Ok(out)
}

/// Sentences for people: how each session was admitted.
pub fn admission_lines(admissions: &[sqlexam_core::record::SessionAdmission]) -> Vec<String> {
    use sqlexam_core::pack::Admitted;
    admissions
        .iter()
        .map(|a| {
            let how = match a.admitted {
                Admitted::ByCode => "admitted with their admission code",
                Admitted::ByProctor => "admitted by a proctor",
                Admitted::Unadmitted => "NOT ADMITTED",
                Admitted::NoRoster => "no roster",
            };
            let roster = if a.on_roster {
                ""
            } else {
                " (not on the roster)"
            };
            format!(
                "session {} (candidate {}): {how}{roster}",
                a.session, a.candidate
            )
        })
        .collect()
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
            let code = e.downcast_ref::<PackError>().map_or("", ErrorCode::code);
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
