//! Problems: their settings, and a loaded problem ready to grade (one SQLite image and the
//! expected result per dataset). A loaded problem holds no reference SQL: only the results
//! the reference produced when the problem was loaded.

mod config;
pub(crate) mod image;
pub mod source;

use serde::{Deserialize, Serialize};

use crate::value::ResultSet;

pub use config::{
    ColumnNames, Compare, ExamRules, Limits, MAX_WALL_MS, Numbers, Order, Settings, TextCase,
    WhileClosed,
};
pub use source::{
    Expectation, PackSource, Submission, load_problem, load_problem_in_context, read_pack_source,
    submissions,
};

/// A text in both exam languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: String,
    pub ja: String,
}

impl Localized {
    /// The text in `lang` ("ja" or anything else for English).
    pub fn get(&self, lang: &str) -> &str {
        if lang == "ja" { &self.ja } else { &self.en }
    }
}

/// What a problem asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One read-only query; its result is compared.
    Select,
    /// Data-changing statements; the final contents of `check_tables` are compared.
    Dml,
}

/// Whether candidates see a dataset's data and expected output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Sample,
    Secret,
}

/// A scoring group: its points are earned when all its datasets pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    pub points: u32,
    pub datasets: Vec<String>,
}

/// A table (or view) of the problem's schema, for the schema browser and the authorizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableInfo {
    pub name: String,
    pub is_view: bool,
    pub columns: Vec<ColumnInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnInfo {
    pub name: String,
    /// The declared type as written in the schema ("INTEGER", "TEXT", "" …).
    pub decl_type: String,
}

/// What a correct submission produces on a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// Select problems: the result of the query.
    Rows(ResultSet),
    /// DML problems: the final contents of each check table, in `check_tables` order.
    Tables(Vec<ResultSet>),
}

/// One dataset: a ready-to-load SQLite image and its expected result.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// `sample/<stem>` or `secret/<stem>`.
    pub name: String,
    pub visibility: Visibility,
    /// The SQLite database file image (schema + data), copied fresh for every run.
    pub image: Vec<u8>,
    pub expected: Expected,
    /// VM steps the reference solution used on this dataset.
    pub reference_steps: u64,
}

/// A loaded problem: everything grading needs, nothing a candidate must not have (the
/// expected results of secret datasets aside, which only the grader reads).
#[derive(Debug, Clone)]
pub struct Problem {
    pub id: String,
    pub title: Localized,
    pub statement: Localized,
    pub kind: Kind,
    /// The maximum score: the sum of the groups' points.
    pub points: u32,
    pub groups: Vec<Group>,
    pub check_tables: Vec<String>,
    pub limits: Limits,
    pub compare: Compare,
    /// The fixed clock, as written (`YYYY-MM-DD HH:MM:SS`, UTC) and as Unix milliseconds.
    pub now: String,
    pub now_unix_ms: i64,
    pub schema_sql: String,
    pub tables: Vec<TableInfo>,
    /// The schema defines triggers (so they must stay enabled while grading).
    pub has_triggers: bool,
    /// The schema defines views (so they must stay enabled while grading).
    pub has_views: bool,
    pub datasets: Vec<Dataset>,
}

impl Problem {
    /// Rows of the largest table in any dataset (0 if none can be read).
    pub fn largest_table_rows(&self) -> u64 {
        let names: Vec<String> = self.tables.iter().map(|t| t.name.clone()).collect();
        self.datasets
            .iter()
            .filter_map(|d| crate::image::read_image_tables(&d.image, &names))
            .flatten()
            .map(|t| t.rows.len() as u64)
            .max()
            .unwrap_or(0)
    }

    /// The dataset called `name`, if any.
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// What candidates may see of a sample dataset: every table's rows and the expected
    /// output. `None` for a secret or unknown dataset.
    pub fn sample(&self, name: &str) -> Option<SampleData> {
        let dataset = self
            .dataset(name)
            .filter(|d| d.visibility == Visibility::Sample)?;
        let names: Vec<String> = self.tables.iter().map(|t| t.name.clone()).collect();
        let tables = crate::image::read_image_tables(&dataset.image, &names)?;
        Some(SampleData {
            name: dataset.name.clone(),
            tables: names.into_iter().zip(tables).collect(),
            expected: dataset.expected.clone(),
        })
    }
}

/// Everything a candidate may see of a problem: statement, schema, sample data and
/// expected sample output — never secret data or results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemView {
    pub id: String,
    pub title: Localized,
    pub statement: Localized,
    pub kind: Kind,
    pub points: u32,
    /// Whether row order is graded.
    pub order_required: bool,
    pub check_tables: Vec<String>,
    pub tables: Vec<TableInfo>,
    pub samples: Vec<SampleData>,
    pub limits: TimeLimitView,
}

/// Steps a typical laptop runs per second (measured on a 2-core server CPU of 2024 at
/// 150 million; laptops vary, so a little less). Only for telling people what a budget
/// means: the verdict never depends on it.
pub const TYPICAL_STEPS_PER_SECOND: u64 = 125_000_000;

/// About how many seconds a query that uses `steps` runs on a typical laptop (one decimal).
pub fn typical_seconds(steps: u64) -> f64 {
    (steps as f64 / TYPICAL_STEPS_PER_SECOND as f64 * 10.0).round() / 10.0
}

/// The time limit as a candidate reads it: the budget, and about how long a query that uses
/// it all runs on a typical laptop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeLimitView {
    pub steps: u64,
    pub typical_seconds: f64,
}

impl Problem {
    pub fn candidate_view(&self) -> ProblemView {
        ProblemView {
            id: self.id.clone(),
            title: self.title.clone(),
            statement: self.statement.clone(),
            kind: self.kind,
            points: self.points,
            order_required: self.compare.order == Order::Required,
            check_tables: self.check_tables.clone(),
            tables: self.tables.clone(),
            limits: TimeLimitView {
                steps: self.limits.steps,
                typical_seconds: typical_seconds(self.limits.steps),
            },
            samples: self
                .datasets
                .iter()
                .filter(|d| d.visibility == Visibility::Sample)
                .filter_map(|d| self.sample(&d.name))
                .map(|mut sample| {
                    // The reference's column names can spell out its expressions
                    // (`COUNT(e.emp_id)`); unless names are graded, show positions only.
                    if let (Expected::Rows(rows), ColumnNames::Ignored) =
                        (&mut sample.expected, self.compare.column_names)
                    {
                        rows.columns = (1..=rows.columns.len()).map(|i| format!("#{i}")).collect();
                    }
                    sample
                })
                .collect(),
        }
    }
}

/// A sample dataset as the schema browser shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleData {
    pub name: String,
    /// (table, contents) in schema order.
    pub tables: Vec<(String, ResultSet)>,
    pub expected: Expected,
}
