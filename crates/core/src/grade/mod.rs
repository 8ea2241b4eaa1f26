//! Grading one submission: split and vet the SQL, run it on every dataset in a fresh
//! sandbox, compare with the expected results, and turn the outcome into a verdict, score
//! and feedback. Secret datasets yield pass/fail only: no error text or rows that would make
//! hidden data an oracle.

mod authorizer;
pub mod compare;
pub(crate) mod sandbox;
mod split;

use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use compare::{Difference, Mismatch};
pub use sandbox::{HEAP_LIMIT_BYTES, OUTPUT_BYTE_LIMIT, SQL_LIMITS};

use crate::error::line_column;
use crate::problem::{Dataset, Expected, Kind, Problem, Visibility};
use crate::value::ResultSet;
use sandbox::{Failure, Output, Spec};
use split::{first_keyword, statement_ranges};

/// Longest submission accepted, in bytes (SQLite's SQL_LENGTH limit is the same).
pub const MAX_SQL_BYTES: usize = 100_000;
/// What a sample dataset's output may take in JSON (the rows shown to the candidate); the
/// rows past it are counted, not shown.
pub const PRODUCED_JSON_BYTES: usize = 1 << 20;

/// The outcome of a submission or of one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    WrongAnswer,
    RuntimeError,
    TimeLimitExceeded,
    OutputLimitExceeded,
    Forbidden,
}

/// What the grader refused to run, and why. `code` is stable: the UI and CLI translate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// No statement at all (empty, or only comments).
    Empty,
    TooLong {
        bytes: usize,
        limit: usize,
    },
    /// A NUL byte at this byte offset.
    NulByte {
        offset: usize,
    },
    /// The bytes are not UTF-8 from this byte offset on.
    InvalidUtf8 {
        offset: usize,
    },
    /// A select problem takes exactly one statement.
    MultipleStatements {
        count: usize,
    },
    /// A statement of a kind not allowed here (PRAGMA, ATTACH, BEGIN, CREATE, VACUUM …).
    Statement {
        keyword: String,
    },
    /// A select problem's statement must be a read-only query that returns columns.
    NotAQuery,
    /// A write to a table where none is allowed.
    Write {
        table: String,
    },
    Pragma {
        name: String,
    },
    Attach,
    Transaction,
    SchemaChange,
    /// SQLite's own tables (sqlite_schema, sqlite_master, sqlite_sequence …).
    SchemaTable {
        name: String,
    },
    /// A table that is not part of this problem.
    Table {
        name: String,
    },
    Function {
        name: String,
    },
    VirtualTable,
    Other {
        action: String,
    },
}

/// A problem with the submission that does not depend on data, so it is shown in full even
/// though it came from running on secret data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Diagnostic {
    Forbidden {
        refusal: Refusal,
    },
    /// SQLite could not compile the SQL; line and column are 1-based in the submission.
    SqlError {
        message: String,
        line: usize,
        column: usize,
    },
}

/// Feedback about one dataset; only given for sample datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    Mismatch {
        mismatch: Mismatch,
    },
    RuntimeError {
        message: String,
        line: usize,
    },
    TimeLimit {
        steps: u64,
        limit: u64,
        by_wall_clock: bool,
    },
    OutputLimit {
        rows: u64,
        row_limit: u64,
        bytes: u64,
    },
}

/// What the candidate's SQL produced on a sample dataset (for the result grid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Produced {
    Rows(ResultSet),
    Tables(Vec<ResultSet>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetOutcome {
    pub name: String,
    pub visibility: Visibility,
    pub verdict: Verdict,
    /// SQLite VM steps the submission used on this dataset. `None` on secret datasets in
    /// the candidate's view: step counts and times can encode hidden data.
    pub steps: Option<u64>,
    pub wall_ms: Option<f64>,
    /// Feedback; `None` on secret datasets and when the dataset passed.
    pub detail: Option<Detail>,
    /// The submission's output; only on sample datasets.
    pub produced: Option<Produced>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupScore {
    pub name: String,
    pub points: u32,
    pub earned: u32,
}

/// Which datasets a grading run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every dataset: a submission.
    All,
    /// Sample datasets only: "run on sample", no score.
    Samples,
}

/// The result of grading one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grading {
    pub problem: String,
    pub scope: Scope,
    pub verdict: Verdict,
    pub score: u32,
    pub max_score: u32,
    pub groups: Vec<GroupScore>,
    /// Set when the SQL was refused or does not compile (then no dataset ran).
    pub diagnostic: Option<Diagnostic>,
    pub datasets: Vec<DatasetOutcome>,
    /// Totals over the datasets whose figures are shown.
    pub steps: u64,
    pub wall_ms: f64,
    pub grader_version: String,
    pub sqlite_version: String,
}

/// Whether `sql` holds no statement at all (white space, `;` and comments only): such a
/// text is not a submission.
pub fn is_blank(sql: &str) -> bool {
    statement_ranges(sql)
        .into_iter()
        .all(|r| first_keyword(&sql[r]).is_none())
}

/// The SQL functions candidates may call (everything else is refused by name): for editors
/// that offer completions.
pub fn allowed_functions() -> &'static [&'static str] {
    authorizer::FUNCTIONS
}

/// Grades a submission given as raw bytes (a file, the network): bytes that are not UTF-8
/// are refused with the offset of the first bad byte.
pub fn grade_bytes(problem: &Problem, sql: &[u8], scope: Scope) -> Grading {
    match std::str::from_utf8(sql) {
        Ok(text) => grade(problem, text, scope),
        Err(e) => refused(
            problem,
            scope,
            Refusal::InvalidUtf8 {
                offset: e.valid_up_to(),
            },
        ),
    }
}

/// Grades `sql` against `problem`. Never fails: every input gets a verdict.
pub fn grade(problem: &Problem, sql: &str, scope: Scope) -> Grading {
    // Editors on Windows start files with a byte-order mark; it is not SQL.
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    let mut grading = empty_grading(problem, scope);
    let statements = match vet(sql, problem.kind) {
        Ok(statements) => statements,
        Err(refusal) => return refused(problem, scope, refusal),
    };
    let datasets = problem
        .datasets
        .iter()
        .filter(|d| scope == Scope::All || d.visibility == Visibility::Sample);
    // One wall-clock allowance for the whole submission, whatever the number of datasets.
    let deadline = Instant::now() + Duration::from_millis(problem.limits.wall_ms);
    for dataset in datasets {
        let outcome = match run_dataset(problem, dataset, sql, &statements, deadline) {
            Ok(outcome) => outcome,
            Err(diagnostic) => {
                grading.verdict = match diagnostic {
                    Diagnostic::Forbidden { .. } => Verdict::Forbidden,
                    Diagnostic::SqlError { .. } => Verdict::RuntimeError,
                };
                grading.diagnostic = Some(diagnostic);
                grading.datasets.clear();
                grading.groups = score_groups(problem, &[], scope);
                return grading;
            }
        };
        grading.steps += outcome.steps.unwrap_or(0);
        grading.wall_ms += outcome.wall_ms.unwrap_or(0.0);
        if grading.verdict == Verdict::Accepted {
            grading.verdict = outcome.verdict;
        }
        grading.datasets.push(outcome);
    }
    grading.groups = score_groups(problem, &grading.datasets, scope);
    grading.score = grading.groups.iter().map(|g| g.earned).sum();
    grading
}

impl Grading {
    /// What a candidate may see: secret datasets keep their verdict but lose their step
    /// count and time (a query can make either depend on hidden data). Organizers and the
    /// server keep the full grading.
    pub fn for_candidate(mut self) -> Grading {
        for d in &mut self.datasets {
            if d.visibility == Visibility::Secret {
                d.steps = None;
                d.wall_ms = None;
            }
        }
        self.steps = self.datasets.iter().filter_map(|d| d.steps).sum();
        self.wall_ms = self.datasets.iter().filter_map(|d| d.wall_ms).sum();
        self
    }
}

fn empty_grading(problem: &Problem, scope: Scope) -> Grading {
    Grading {
        problem: problem.id.clone(),
        scope,
        verdict: Verdict::Accepted,
        score: 0,
        max_score: if scope == Scope::All {
            problem.points
        } else {
            0
        },
        groups: Vec::new(),
        diagnostic: None,
        datasets: Vec::new(),
        steps: 0,
        wall_ms: 0.0,
        grader_version: crate::GRADER_VERSION.to_owned(),
        sqlite_version: crate::sqlite_version().to_owned(),
    }
}

fn refused(problem: &Problem, scope: Scope, refusal: Refusal) -> Grading {
    Grading {
        verdict: Verdict::Forbidden,
        diagnostic: Some(Diagnostic::Forbidden { refusal }),
        groups: score_groups(problem, &[], scope),
        ..empty_grading(problem, scope)
    }
}

/// Checks that do not need a database: size, NUL bytes, statement count and kinds.
/// Returns the byte ranges of the non-empty statements.
fn vet(sql: &str, kind: Kind) -> Result<Vec<Range<usize>>, Refusal> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(Refusal::TooLong {
            bytes: sql.len(),
            limit: MAX_SQL_BYTES,
        });
    }
    if let Some(offset) = sql.find('\0') {
        return Err(Refusal::NulByte { offset });
    }
    let mut statements = Vec::new();
    for range in statement_ranges(sql) {
        let Some(keyword) = first_keyword(&sql[range.clone()]) else {
            continue;
        };
        let allowed: &[&str] = match kind {
            Kind::Select => &["SELECT", "WITH", "VALUES"],
            Kind::Dml => &[
                "SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE",
            ],
        };
        if !allowed.iter().any(|k| k.eq_ignore_ascii_case(&keyword)) {
            return Err(Refusal::Statement {
                keyword: keyword.to_ascii_uppercase(),
            });
        }
        statements.push(range);
    }
    match (statements.len(), kind) {
        (0, _) => Err(Refusal::Empty),
        (n, Kind::Select) if n > 1 => Err(Refusal::MultipleStatements { count: n }),
        _ => Ok(statements),
    }
}

/// Runs one dataset. `Err` carries a data-independent diagnostic that ends the grading.
fn run_dataset(
    problem: &Problem,
    dataset: &Dataset,
    sql: &str,
    statements: &[Range<usize>],
    deadline: Instant,
) -> Result<DatasetOutcome, Diagnostic> {
    // Problem-wide, so an Output Limit verdict on one dataset says nothing about its size.
    let expected_rows = problem
        .datasets
        .iter()
        .map(|d| match &d.expected {
            Expected::Rows(r) => r.rows.len() as u64,
            Expected::Tables(t) => t.iter().map(|r| r.rows.len() as u64).sum(),
        })
        .max()
        .unwrap_or(0);
    let spec = Spec {
        image: &dataset.image,
        kind: problem.kind,
        tables: problem.tables.iter().map(|t| t.name.clone()).collect(),
        check_tables: &problem.check_tables,
        limits: &problem.limits,
        output_row_cap: problem.limits.output_rows.max(2 * expected_rows),
        deadline,
        now_unix_ms: problem.now_unix_ms,
        triggers: problem.has_triggers,
        views: problem.has_views,
    };
    let run = sandbox::run(&spec, sql, statements);
    let sample = dataset.visibility == Visibility::Sample;
    let mut outcome = DatasetOutcome {
        name: dataset.name.clone(),
        visibility: dataset.visibility,
        verdict: Verdict::Accepted,
        steps: Some(run.steps),
        wall_ms: Some(run.wall.as_secs_f64() * 1000.0),
        detail: None,
        produced: None,
    };
    let (verdict, detail) = match run.result {
        Err(Failure::Refused(refusal)) => return Err(Diagnostic::Forbidden { refusal }),
        Err(Failure::Compile { message, offset }) => {
            let (line, column) = line_column(sql, offset);
            return Err(Diagnostic::SqlError {
                message,
                line,
                column,
            });
        }
        Err(Failure::Runtime { message, offset }) => {
            let line = line_column(sql, offset).0;
            (
                Verdict::RuntimeError,
                Some(Detail::RuntimeError { message, line }),
            )
        }
        Err(Failure::TimeLimit { by_wall }) => (
            Verdict::TimeLimitExceeded,
            Some(Detail::TimeLimit {
                steps: run.steps,
                limit: problem.limits.steps,
                by_wall_clock: by_wall,
            }),
        ),
        Err(Failure::OutputLimit { rows, bytes }) => (
            Verdict::OutputLimitExceeded,
            Some(Detail::OutputLimit {
                rows,
                row_limit: spec.output_row_cap,
                bytes,
            }),
        ),
        Ok(output) => {
            let mismatch = match (&dataset.expected, &output) {
                (Expected::Rows(e), Output::Rows(a)) => {
                    compare::compare_result(e, a, &problem.compare)
                }
                (Expected::Tables(e), Output::Tables(a)) => {
                    compare::compare_tables(&problem.check_tables, e, a, &problem.compare)
                }
                // A loaded problem's expected results always match its kind.
                _ => Some(Mismatch::ColumnCount {
                    expected: 0,
                    actual: 0,
                }),
            };
            if sample {
                outcome.produced = Some(match output {
                    Output::Rows(mut r) => {
                        r.keep_within(PRODUCED_JSON_BYTES);
                        Produced::Rows(r)
                    }
                    Output::Tables(mut tables) => {
                        let mut left = PRODUCED_JSON_BYTES;
                        for t in &mut tables {
                            left = t.keep_within(left);
                        }
                        Produced::Tables(tables)
                    }
                });
            }
            match mismatch {
                None => (Verdict::Accepted, None),
                Some(mismatch) => (Verdict::WrongAnswer, Some(Detail::Mismatch { mismatch })),
            }
        }
    };
    outcome.verdict = verdict;
    outcome.detail = if sample { detail } else { None };
    Ok(outcome)
}

fn score_groups(problem: &Problem, outcomes: &[DatasetOutcome], scope: Scope) -> Vec<GroupScore> {
    if scope == Scope::Samples {
        return Vec::new();
    }
    problem
        .groups
        .iter()
        .map(|g| {
            let passed = g.datasets.iter().all(|name| {
                outcomes
                    .iter()
                    .any(|o| &o.name == name && o.verdict == Verdict::Accepted)
            });
            GroupScore {
                name: g.name.clone(),
                points: g.points,
                earned: if passed { g.points } else { 0 },
            }
        })
        .collect()
}

/// Runs the reference solution of a problem being loaded on one dataset image, through the
/// same sandbox candidates get. Returns its output and VM steps, or a message.
pub(crate) fn run_reference(
    problem: &Problem,
    image: &[u8],
    sql: &str,
) -> Result<(Expected, u64), String> {
    let statements = vet(sql, problem.kind).map_err(|r| format!("refused: {r:?}"))?;
    let spec = Spec {
        image,
        kind: problem.kind,
        tables: problem.tables.iter().map(|t| t.name.clone()).collect(),
        check_tables: &problem.check_tables,
        limits: &problem.limits,
        output_row_cap: problem.limits.output_rows,
        deadline: Instant::now() + Duration::from_millis(problem.limits.wall_ms),
        now_unix_ms: problem.now_unix_ms,
        triggers: problem.has_triggers,
        views: problem.has_views,
    };
    let run = sandbox::run(&spec, sql, &statements);
    match run.result {
        Ok(Output::Rows(r)) => Ok((Expected::Rows(r), run.steps)),
        Ok(Output::Tables(t)) => Ok((Expected::Tables(t), run.steps)),
        Err(Failure::Refused(r)) => Err(format!("refused: {r:?}")),
        Err(Failure::Compile { message, offset }) => {
            let (line, column) = line_column(sql, offset);
            Err(format!("line {line}, column {column}: {message}"))
        }
        Err(Failure::Runtime { message, .. }) => Err(message),
        Err(Failure::TimeLimit { .. }) => Err(format!(
            "it exceeds the time limit ({} VM steps, {} ms); raise [limits] or simplify the data",
            problem.limits.steps, problem.limits.wall_ms
        )),
        Err(Failure::OutputLimit { rows, .. }) => Err(format!(
            "it returns more than {rows} rows; raise limits.output_rows"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vet_counts_statements_and_refuses_other_kinds() {
        assert_eq!(
            vet("SELECT 1; -- done\n", Kind::Select).map(|s| s.len()),
            Ok(1)
        );
        assert_eq!(
            vet("SELECT 1; SELECT 2", Kind::Select),
            Err(Refusal::MultipleStatements { count: 2 })
        );
        assert_eq!(vet("-- nothing", Kind::Select), Err(Refusal::Empty));
        assert_eq!(
            vet("VACUUM INTO '/tmp/x'", Kind::Dml),
            Err(Refusal::Statement {
                keyword: "VACUUM".into()
            })
        );
        assert_eq!(
            vet("UPDATE t SET a = 1; DELETE FROM t", Kind::Dml).map(|s| s.len()),
            Ok(2)
        );
        assert_eq!(
            vet("SELECT 1\0; DROP TABLE t", Kind::Select),
            Err(Refusal::NulByte { offset: 8 })
        );
    }
}
