//! The TOML files of a problem source (`pack.toml`, `problem.toml`) and the settings they
//! resolve to. Parsing is strict: unknown keys are errors, so a typo cannot change grading.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Group, Kind, Localized};
use crate::error::{Error, Result, line_column};

/// Resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The deterministic time limit per dataset, in steps: one per SQLite VM instruction
    /// plus one per byte SQLite allocates (see docs/problem-format.md).
    pub steps: u64,
    /// Wall-clock backstop in milliseconds for a whole submission (all its datasets).
    pub wall_ms: u64,
    /// Result rows before Output Limit Exceeded (at least twice the expected rows).
    pub output_rows: u64,
}

/// The largest `wall_ms` a problem may set: the server's grading lease is derived from it,
/// so that a job's lease always outlasts the grader's time limit.
pub const MAX_WALL_MS: u64 = 60_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A correct quadratic formulation (a correlated subquery) over a few thousand
            // rows needs 25–110 million; this leaves it room on a slow laptop (~2 s here).
            steps: 250_000_000,
            wall_ms: 10_000,
            output_rows: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Ignored,
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnNames {
    Ignored,
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Numbers {
    /// INTEGER and REAL compare by value: 2 = 2.0.
    Numeric,
    /// Storage class must match too: 2 ≠ 2.0.
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextCase {
    Sensitive,
    Fold,
}

/// How a candidate's result is compared with the expected one (docs/problem-format.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    pub order: Order,
    /// 1-based key columns when `order` is required; empty means every column, in full.
    pub order_by: Vec<usize>,
    pub column_names: ColumnNames,
    pub numbers: Numbers,
    pub float_abs: f64,
    pub float_rel: f64,
    pub text_case: TextCase,
    pub text_trim: bool,
}

impl Default for Compare {
    fn default() -> Self {
        Compare {
            order: Order::Ignored,
            order_by: Vec::new(),
            column_names: ColumnNames::Ignored,
            numbers: Numbers::Numeric,
            float_abs: 1e-9,
            float_rel: 1e-9,
            text_case: TextCase::Sensitive,
            text_trim: false,
        }
    }
}

/// The built-in fixed clock (UTC) when neither problem nor pack sets `now`.
pub(crate) const DEFAULT_NOW: &str = "2025-01-01 00:00:00";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackToml {
    pub id: String,
    pub version: String,
    pub problems: Vec<String>,
    pub title: Localized,
    #[serde(default)]
    pub defaults: Settings,
    pub exam: Option<ExamToml>,
}

/// What happens to the exam clock while the app is closed (docs/problem-format.md, `[exam]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhileClosed {
    /// The clock stops; reopening needs a proctor's "resume" (no one gains time by closing).
    Paused,
    /// The clock keeps running by the wall clock (never backwards); reopening resumes alone.
    Running,
}

/// The exam's rules, from `pack.toml`'s `[exam]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamRules {
    /// Exam time per candidate, before proctor extensions.
    pub duration_ms: u64,
    pub while_closed: WhileClosed,
}

impl Default for ExamRules {
    fn default() -> Self {
        ExamRules {
            duration_ms: 60 * 60_000,
            while_closed: WhileClosed::Paused,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExamToml {
    pub duration_minutes: u32,
    pub while_closed: Option<WhileClosed>,
}

impl ExamToml {
    pub fn rules(&self, path: &Path) -> Result<ExamRules> {
        if self.duration_minutes == 0 || self.duration_minutes > 24 * 60 {
            return Err(Error::invalid(
                path,
                "exam.duration_minutes must be between 1 and 1440",
            ));
        }
        Ok(ExamRules {
            duration_ms: u64::from(self.duration_minutes) * 60_000,
            while_closed: self.while_closed.unwrap_or(WhileClosed::Paused),
        })
    }
}

/// The settings a pack's `[defaults]` and a problem may both set; each unset key falls back.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub(crate) now: Option<String>,
    #[serde(default)]
    pub(crate) limits: LimitsToml,
    #[serde(default)]
    pub(crate) compare: CompareToml,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProblemToml {
    pub title: Localized,
    pub kind: Kind,
    pub points: Option<u32>,
    pub check_tables: Option<Vec<String>>,
    now: Option<String>,
    #[serde(default)]
    limits: LimitsToml,
    #[serde(default)]
    compare: CompareToml,
    #[serde(default, rename = "group")]
    pub groups: Vec<Group>,
}

impl ProblemToml {
    /// The settings this problem sets itself (serde's `flatten` cannot be combined with
    /// `deny_unknown_fields`, hence the copy).
    pub fn settings(&self) -> Settings {
        Settings {
            now: self.now.clone(),
            limits: self.limits.clone(),
            compare: self.compare.clone(),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsToml {
    steps: Option<u64>,
    wall_ms: Option<u64>,
    output_rows: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareToml {
    order: Option<Order>,
    order_by: Option<Vec<usize>>,
    column_names: Option<ColumnNames>,
    numbers: Option<Numbers>,
    float_abs: Option<f64>,
    float_rel: Option<f64>,
    text_case: Option<TextCase>,
    text_trim: Option<bool>,
}

impl Settings {
    /// This problem's settings over the pack's defaults over the built-in ones; `path`
    /// names the file for errors.
    pub(crate) fn resolve(
        &self,
        pack: &Settings,
        path: &Path,
    ) -> Result<(String, Limits, Compare)> {
        let now = self
            .now
            .clone()
            .or_else(|| pack.now.clone())
            .unwrap_or_else(|| DEFAULT_NOW.to_owned());
        let d = Limits::default();
        let (l, pl) = (&self.limits, &pack.limits);
        let limits = Limits {
            steps: l.steps.or(pl.steps).unwrap_or(d.steps),
            wall_ms: l.wall_ms.or(pl.wall_ms).unwrap_or(d.wall_ms),
            output_rows: l.output_rows.or(pl.output_rows).unwrap_or(d.output_rows),
        };
        let d = Compare::default();
        let (c, pc) = (&self.compare, &pack.compare);
        let compare = Compare {
            order: c.order.or(pc.order).unwrap_or(d.order),
            order_by: c
                .order_by
                .clone()
                .or_else(|| pc.order_by.clone())
                .unwrap_or_default(),
            column_names: c.column_names.or(pc.column_names).unwrap_or(d.column_names),
            numbers: c.numbers.or(pc.numbers).unwrap_or(d.numbers),
            float_abs: c.float_abs.or(pc.float_abs).unwrap_or(d.float_abs),
            float_rel: c.float_rel.or(pc.float_rel).unwrap_or(d.float_rel),
            text_case: c.text_case.or(pc.text_case).unwrap_or(d.text_case),
            text_trim: c.text_trim.or(pc.text_trim).unwrap_or(d.text_trim),
        };
        if limits.steps == 0 || limits.wall_ms == 0 || limits.output_rows == 0 {
            return Err(Error::invalid(
                path,
                "limits.steps, limits.wall_ms and limits.output_rows must be positive",
            ));
        }
        if limits.wall_ms > MAX_WALL_MS {
            return Err(Error::invalid(
                path,
                format!(
                    "limits.wall_ms is {}, more than the {MAX_WALL_MS} allowed (it bounds one submission, not the exam)",
                    limits.wall_ms
                ),
            ));
        }
        for (key, value) in [
            ("float_abs", compare.float_abs),
            ("float_rel", compare.float_rel),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::invalid(
                    path,
                    format!("compare.{key} must be a finite number ≥ 0, not {value}"),
                ));
            }
        }
        if !compare.order_by.is_empty() && compare.order == Order::Ignored {
            return Err(Error::invalid(
                path,
                "compare.order_by needs compare.order = \"required\"",
            ));
        }
        if compare.order_by.contains(&0) {
            return Err(Error::invalid(
                path,
                "compare.order_by lists 1-based column numbers; 0 is not a column",
            ));
        }
        Ok((now, limits, compare))
    }
}

/// Reads and strictly parses a TOML file, naming line and column on error.
pub(crate) fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_column(&text, s.start));
        Error::Toml {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })
}
