//! What a pack holds, as JSON and SQLite images: `contents.json` lists the problems;
//! `problems/NN/problem.json` holds a problem's settings, statements, schema and dataset
//! list; `problems/NN/datasets/MM.db` and `.json` hold each dataset's image and expected
//! result. Problem ids live inside the JSON, not in entry paths, so a sealed pack's
//! listing does not give topics away. Reference solutions and submissions never enter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::PackError;
use super::exam::Exam;
use crate::problem::image::parse_now;
use crate::problem::{
    Compare, Dataset, Expected, Group, Kind, Limits, Localized, Problem, TableInfo, Visibility,
};

pub(crate) const CONTENTS_PATH: &str = "contents.json";
const CONTENTS_FORMAT: &str = "sqlexam-pack-contents/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContentsJson {
    format: String,
    exam: Exam,
    /// Paths of each problem's problem.json, in exam order.
    problems: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemJson {
    id: String,
    title: Localized,
    statement: Localized,
    kind: Kind,
    points: u32,
    groups: Vec<Group>,
    check_tables: Vec<String>,
    limits: Limits,
    compare: Compare,
    now: String,
    schema_sql: String,
    tables: Vec<TableInfo>,
    has_triggers: bool,
    has_views: bool,
    datasets: Vec<DatasetJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetJson {
    name: String,
    visibility: Visibility,
    reference_steps: u64,
    /// Entry path of the SQLite image.
    image: String,
    /// Entry path of the expected result (JSON).
    expected: String,
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The plaintext entries of a pack holding `problems`, in container order.
pub(crate) fn to_entries(exam: &Exam, problems: &[Problem]) -> Vec<(String, Vec<u8>)> {
    let mut entries = Vec::new();
    let mut problem_paths = Vec::new();
    let mut files = Vec::new();
    for (p, problem) in problems.iter().enumerate() {
        let dir = format!("problems/{:02}", p + 1);
        let mut datasets = Vec::new();
        let mut data_files = Vec::new();
        for (d, dataset) in problem.datasets.iter().enumerate() {
            let image = format!("{dir}/datasets/{:02}.db", d + 1);
            let expected = format!("{dir}/datasets/{:02}.json", d + 1);
            data_files.push((image.clone(), dataset.image.clone()));
            data_files.push((expected.clone(), json(&dataset.expected)));
            datasets.push(DatasetJson {
                name: dataset.name.clone(),
                visibility: dataset.visibility,
                reference_steps: dataset.reference_steps,
                image,
                expected,
            });
        }
        let meta = ProblemJson {
            id: problem.id.clone(),
            title: problem.title.clone(),
            statement: problem.statement.clone(),
            kind: problem.kind,
            points: problem.points,
            groups: problem.groups.clone(),
            check_tables: problem.check_tables.clone(),
            limits: problem.limits,
            compare: problem.compare.clone(),
            now: problem.now.clone(),
            schema_sql: problem.schema_sql.clone(),
            tables: problem.tables.clone(),
            has_triggers: problem.has_triggers,
            has_views: problem.has_views,
            datasets,
        };
        let path = format!("{dir}/problem.json");
        problem_paths.push(path.clone());
        files.push((path, json(&meta)));
        files.extend(data_files);
    }
    entries.push((
        CONTENTS_PATH.to_owned(),
        json(&ContentsJson {
            format: CONTENTS_FORMAT.into(),
            exam: exam.clone(),
            problems: problem_paths,
        }),
    ));
    entries.extend(files);
    entries
}

fn bad(msg: impl Into<String>) -> PackError {
    PackError::Contents(msg.into())
}

fn get<'a>(entries: &'a HashMap<String, Vec<u8>>, path: &str) -> Result<&'a [u8], PackError> {
    entries
        .get(path)
        .map(Vec::as_slice)
        .ok_or_else(|| bad(format!("{path} is missing")))
}

/// The problems held by a pack's (verified, unsealed) entries, by path. Images are moved
/// out, not copied: they are most of a pack's bytes.
pub(crate) fn from_entries(
    mut entries: HashMap<String, Vec<u8>>,
) -> Result<(Exam, Vec<Problem>), PackError> {
    let contents: ContentsJson = serde_json::from_slice(get(&entries, CONTENTS_PATH)?)
        .map_err(|e| bad(format!("{CONTENTS_PATH}: {e}")))?;
    if contents.format != CONTENTS_FORMAT {
        return Err(bad(format!(
            "{CONTENTS_PATH}: unknown format {:?}",
            contents.format
        )));
    }
    let mut problems = Vec::new();
    for path in &contents.problems {
        let meta: ProblemJson = serde_json::from_slice(get(&entries, path)?)
            .map_err(|e| bad(format!("{path}: {e}")))?;
        let now_unix_ms = parse_now(&meta.now)
            .ok_or_else(|| bad(format!("{path}: now {:?} is not a time", meta.now)))?;
        // Signed, but still bounded: absurd limits must not overflow or stall the grader.
        if meta.limits.wall_ms > 600_000
            || meta.limits.steps > 100_000_000_000
            || meta.datasets.len() > 1_000
        {
            return Err(bad(format!(
                "{path}: limits out of range (wall_ms ≤ 600000, steps ≤ 1e11, ≤ 1000 datasets)"
            )));
        }
        if meta.datasets.is_empty() {
            return Err(bad(format!("{path}: the problem has no dataset")));
        }
        if (meta.kind == Kind::Dml) == meta.check_tables.is_empty() {
            return Err(bad(format!(
                "{path}: check_tables does not fit kind {:?}",
                meta.kind
            )));
        }
        if meta.groups.iter().map(|g| g.points).sum::<u32>() != meta.points {
            return Err(bad(format!(
                "{path}: the groups' points do not add up to {}",
                meta.points
            )));
        }
        let mut datasets = Vec::new();
        for d in meta.datasets {
            let image = entries
                .remove(&d.image)
                .ok_or_else(|| bad(format!("{} is missing", d.image)))?;
            if !image.starts_with(b"SQLite format 3\0") {
                return Err(bad(format!("{}: not a SQLite database image", d.image)));
            }
            let expected: Expected = serde_json::from_slice(get(&entries, &d.expected)?)
                .map_err(|e| bad(format!("{}: {e}", d.expected)))?;
            let fits = match (&expected, meta.kind) {
                (Expected::Rows(_), Kind::Select) => true,
                (Expected::Tables(t), Kind::Dml) => t.len() == meta.check_tables.len(),
                _ => false,
            };
            if !fits {
                return Err(bad(format!(
                    "{}: the expected result does not fit the problem",
                    d.expected
                )));
            }
            datasets.push(Dataset {
                name: d.name,
                visibility: d.visibility,
                image,
                expected,
                reference_steps: d.reference_steps,
            });
        }
        for g in &meta.groups {
            if let Some(missing) = g
                .datasets
                .iter()
                .find(|n| !datasets.iter().any(|d| &d.name == *n))
            {
                return Err(bad(format!(
                    "{path}: group {} names unknown dataset {missing}",
                    g.name
                )));
            }
        }
        problems.push(Problem {
            id: meta.id,
            title: meta.title,
            statement: meta.statement,
            kind: meta.kind,
            points: meta.points,
            groups: meta.groups,
            check_tables: meta.check_tables,
            limits: meta.limits,
            compare: meta.compare,
            now: meta.now,
            now_unix_ms,
            schema_sql: meta.schema_sql,
            tables: meta.tables,
            has_triggers: meta.has_triggers,
            has_views: meta.has_views,
            datasets,
        });
    }
    if contents.exam.rules.duration_ms == 0 {
        return Err(bad(format!("{CONTENTS_PATH}: the exam has no time")));
    }
    Ok((contents.exam, problems))
}
