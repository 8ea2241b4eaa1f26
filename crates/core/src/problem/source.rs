//! Reading a problem source folder (docs/problem-format.md) into a loaded [`Problem`]:
//! strict TOML, strict file layout, images built from schema and data, and the reference
//! solution run once per dataset to get the expected results.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::config::{PackToml, ProblemToml, Settings, read_toml};
use super::image::{build_base, build_dataset, parse_now};
use super::{Dataset, ExamRules, Expected, Group, Kind, Localized, Problem, Visibility};
use crate::error::{Error, Result};
use crate::grade::run_reference;

/// A pack source folder, read but with its problems not yet loaded.
#[derive(Debug, Clone)]
pub struct PackSource {
    pub dir: PathBuf,
    pub id: String,
    pub version: semver::Version,
    pub title: Localized,
    /// Problem folders in the order candidates see them.
    pub problem_dirs: Vec<PathBuf>,
    pub defaults: Settings,
    pub exam: ExamRules,
}

/// What a submission in `submissions/<category>/` must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    Accepted,
    WrongAnswer,
    TimeLimitExceeded,
    RuntimeError,
    Forbidden,
}

impl Expectation {
    const FOLDERS: [(&'static str, Expectation); 5] = [
        ("accepted", Expectation::Accepted),
        ("wrong_answer", Expectation::WrongAnswer),
        ("time_limit_exceeded", Expectation::TimeLimitExceeded),
        ("run_time_error", Expectation::RuntimeError),
        ("forbidden", Expectation::Forbidden),
    ];
}

/// A labelled submission of a problem source.
#[derive(Debug, Clone)]
pub struct Submission {
    pub path: PathBuf,
    pub expect: Expectation,
}

/// Pack, problem and dataset names: `a-z`, `0-9`, `-`; 1–64 characters; no leading `-`.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// The names in a folder, sorted; a missing folder is an error naming it.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        names.push((name, entry.path()));
    }
    names.sort();
    Ok(names)
}

/// Reads `pack.toml` of a pack source folder and checks its problem list.
pub fn read_pack_source(dir: &Path) -> Result<PackSource> {
    let path = dir.join("pack.toml");
    let toml: PackToml = read_toml(&path)?;
    if !valid_name(&toml.id) {
        return Err(Error::invalid(
            &path,
            format!(
                "id {:?} must use a-z, 0-9 and - only (1-64 characters)",
                toml.id
            ),
        ));
    }
    let version = semver::Version::parse(&toml.version).map_err(|e| {
        Error::invalid(
            &path,
            format!("version {:?} is not semver (like 1.2.0): {e}", toml.version),
        )
    })?;
    if toml.problems.is_empty() {
        return Err(Error::invalid(&path, "problems lists no problem"));
    }
    let mut problem_dirs = Vec::new();
    for (i, id) in toml.problems.iter().enumerate() {
        if toml.problems[..i].contains(id) {
            return Err(Error::invalid(
                &path,
                format!("problem {id:?} is listed twice"),
            ));
        }
        let problem_dir = dir.join(id);
        if !problem_dir.join("problem.toml").is_file() {
            return Err(Error::invalid(
                &path,
                format!(
                    "problem {id:?} is listed but {} has no problem.toml",
                    problem_dir.display()
                ),
            ));
        }
        problem_dirs.push(problem_dir);
    }
    for (name, entry) in list_dir(dir)? {
        if entry.join("problem.toml").is_file() && !toml.problems.contains(&name) {
            return Err(Error::invalid(
                &path,
                format!("folder {name:?} holds a problem but is not listed in problems"),
            ));
        }
    }
    let exam = match &toml.exam {
        Some(e) => e.rules(&path)?,
        None => ExamRules::default(),
    };
    Ok(PackSource {
        exam,
        dir: dir.to_owned(),
        id: toml.id,
        version,
        title: toml.title,
        problem_dirs,
        defaults: toml.defaults,
    })
}

/// Loads a problem folder, inheriting `[defaults]` from `../pack.toml` when it is part of
/// a pack source.
pub fn load_problem_in_context(dir: &Path) -> Result<Problem> {
    let defaults = match dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(Path::to_owned))
    {
        Some(parent) if parent.join("pack.toml").is_file() => read_pack_source(&parent)?.defaults,
        _ => Settings::default(),
    };
    load_problem(dir, &defaults)
}

/// Loads a problem folder: checks the layout, builds the images and runs the reference.
pub fn load_problem(dir: &Path, defaults: &Settings) -> Result<Problem> {
    let id = dir
        .canonicalize()
        .map_err(|e| Error::io(dir, e))?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !valid_name(&id) {
        return Err(Error::invalid(
            dir,
            format!("problem folder name {id:?} must use a-z, 0-9 and - only"),
        ));
    }
    let toml_path = dir.join("problem.toml");
    let toml: ProblemToml = read_toml(&toml_path)?;
    let (now, limits, compare) = toml.settings().resolve(defaults, &toml_path)?;
    let now_unix_ms = parse_now(&now).ok_or_else(|| {
        Error::invalid(
            &toml_path,
            format!("now = {now:?} is not a UTC time like \"2025-04-01 09:00:00\""),
        )
    })?;
    let statement = Localized {
        en: read_text(&dir.join("statement.en.md"))?,
        ja: read_text(&dir.join("statement.ja.md"))?,
    };
    for (lang, text) in [("en", &statement.en), ("ja", &statement.ja)] {
        if text.trim().is_empty() {
            return Err(Error::invalid(
                dir.join(format!("statement.{lang}.md")),
                "the statement is empty",
            ));
        }
    }
    let check_tables = match (toml.kind, &toml.check_tables) {
        (Kind::Dml, Some(t)) if !t.is_empty() => t.clone(),
        (Kind::Dml, _) => {
            return Err(Error::invalid(
                &toml_path,
                "a dml problem needs check_tables = [\"table\", …]",
            ));
        }
        (Kind::Select, Some(_)) => {
            return Err(Error::invalid(
                &toml_path,
                "check_tables is only for kind = \"dml\"",
            ));
        }
        (Kind::Select, None) => Vec::new(),
    };

    let schema_path = dir.join("schema.sql");
    let schema_sql = read_text(&schema_path)?;
    let base = build_base(&schema_path, &schema_sql, now_unix_ms)?;
    for table in &check_tables {
        if !base
            .tables
            .iter()
            .any(|t| !t.is_view && t.name.eq_ignore_ascii_case(table))
        {
            return Err(Error::invalid(
                &toml_path,
                format!("check_tables names {table:?}, which schema.sql does not create"),
            ));
        }
    }

    let files = dataset_files(dir)?;
    let secret: Vec<String> = files
        .iter()
        .filter(|(_, v, _)| *v == Visibility::Secret)
        .map(|(n, _, _)| n.clone())
        .collect();
    let (points, groups) = groups(&toml_path, &toml, &files, secret)?;

    let mut problem = Problem {
        id,
        title: toml.title.clone(),
        statement,
        kind: toml.kind,
        points,
        groups,
        check_tables,
        limits,
        compare,
        now,
        now_unix_ms,
        schema_sql,
        tables: base.tables,
        has_triggers: base.has_triggers,
        has_views: base.has_views,
        datasets: Vec::new(),
    };
    let solution_path = dir.join("solution.sql");
    let solution = read_text(&solution_path)?;
    for (name, visibility, path) in files {
        let data = read_text(&path)?;
        let image = build_dataset(&base.image, &path, &data, now_unix_ms)?;
        let (expected, reference_steps) =
            run_reference(&problem, &image, &solution).map_err(|message| Error::Reference {
                path: solution_path.clone(),
                dataset: name.clone(),
                message,
            })?;
        if let Expected::Rows(rows) = &expected
            && let Some(&c) = problem
                .compare
                .order_by
                .iter()
                .find(|&&c| c > rows.columns.len())
        {
            return Err(Error::invalid(
                &toml_path,
                format!(
                    "compare.order_by names column {c}, but the result has {} columns",
                    rows.columns.len()
                ),
            ));
        }
        problem.datasets.push(Dataset {
            name,
            visibility,
            image,
            expected,
            reference_steps,
        });
    }
    Ok(problem)
}

/// `(name, visibility, path)` of every dataset file, samples first, each in name order.
fn dataset_files(dir: &Path) -> Result<Vec<(String, Visibility, PathBuf)>> {
    let mut files = Vec::new();
    for (folder, visibility) in [
        ("sample", Visibility::Sample),
        ("secret", Visibility::Secret),
    ] {
        let data_dir = dir.join("data").join(folder);
        let mut found = 0;
        for (file, path) in list_dir(&data_dir)? {
            let stem = file
                .strip_suffix(".sql")
                .filter(|s| valid_name(s))
                .ok_or_else(|| {
                    Error::invalid(
                        &path,
                        "unexpected file: dataset files are named like 01-basic.sql (a-z, 0-9, -)",
                    )
                })?;
            files.push((format!("{folder}/{stem}"), visibility, path));
            found += 1;
        }
        if found == 0 {
            return Err(Error::invalid(
                &data_dir,
                format!("no dataset: at least one data/{folder}/*.sql is required"),
            ));
        }
    }
    Ok(files)
}

/// The problem's points and scoring groups, checked against the datasets.
fn groups(
    path: &Path,
    toml: &ProblemToml,
    files: &[(String, Visibility, PathBuf)],
    secret: Vec<String>,
) -> Result<(u32, Vec<Group>)> {
    if toml.groups.is_empty() {
        let points = toml.points.unwrap_or(100);
        return Ok((
            points,
            vec![Group {
                name: "secret".into(),
                points,
                datasets: secret,
            }],
        ));
    }
    let mut total = 0u32;
    for (i, group) in toml.groups.iter().enumerate() {
        if toml.groups[..i].iter().any(|g| g.name == group.name) {
            return Err(Error::invalid(
                path,
                format!("group {:?} is defined twice", group.name),
            ));
        }
        if group.datasets.is_empty() {
            return Err(Error::invalid(
                path,
                format!("group {:?} lists no dataset", group.name),
            ));
        }
        for name in &group.datasets {
            if !files.iter().any(|(n, _, _)| n == name) {
                return Err(Error::invalid(
                    path,
                    format!(
                        "group {:?} lists dataset {name:?}, which does not exist (names look like \"secret/01-basic\")",
                        group.name
                    ),
                ));
            }
        }
        total = total.saturating_add(group.points);
    }
    if let Some(points) = toml.points.filter(|&p| p != total) {
        return Err(Error::invalid(
            path,
            format!("points = {points} but the groups add up to {total}"),
        ));
    }
    Ok((total, toml.groups.clone()))
}

/// The labelled submissions of a problem source, by category then name.
pub fn submissions(dir: &Path) -> Result<Vec<Submission>> {
    let root = dir.join("submissions");
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (category, path) in list_dir(&root)? {
        let Some(&(_, expect)) = Expectation::FOLDERS.iter().find(|(f, _)| *f == category) else {
            return Err(Error::invalid(
                &path,
                format!(
                    "unknown submissions category {category:?} (accepted, wrong_answer, time_limit_exceeded, run_time_error, forbidden)"
                ),
            ));
        };
        for (file, sub) in list_dir(&path)? {
            if !file.ends_with(".sql") {
                return Err(Error::invalid(
                    &sub,
                    "unexpected file: submissions are .sql files",
                ));
            }
            out.push(Submission { path: sub, expect });
        }
    }
    Ok(out)
}
