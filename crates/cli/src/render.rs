//! Gradings as text for people, in English or Japanese. The core hands over codes and
//! values; every sentence a person reads is built here.

use std::fmt::Write;

use sqlexam_core::encoding::terminal_safe;
use sqlexam_core::grade::{
    Detail, Diagnostic, Difference, Grading, Mismatch, Produced, Refusal, Scope, Verdict,
};
use sqlexam_core::problem::Visibility;
use sqlexam_core::value::{Cell, ResultSet, Row};

use sqlexam_i18n::k;

use crate::lang::Lang;

/// Rows of produced output shown under "run on sample".
const SHOWN_ROWS: usize = 20;

pub fn verdict(v: Verdict, lang: Lang) -> &'static str {
    sqlexam_export::lang::verdict(lang, v)
}

/// Why a query was refused, on one line (names in it come from the query).
pub fn refusal(r: &Refusal, lang: Lang) -> String {
    one_line(&refusal_text(r, lang))
}

/// The same sentences the app shows (the catalogue's `refusal.*`).
fn refusal_text(r: &Refusal, lang: Lang) -> String {
    match r {
        Refusal::Empty => lang.fill(k::REFUSAL__EMPTY, &[]),
        Refusal::TooLong { bytes, limit } => {
            lang.fill(k::REFUSAL__TOO_LONG, &[("bytes", bytes), ("limit", limit)])
        }
        Refusal::NulByte { offset } => lang.fill(k::REFUSAL__NUL_BYTE, &[("offset", offset)]),
        Refusal::InvalidUtf8 { offset } => {
            lang.fill(k::REFUSAL__INVALID_UTF8, &[("offset", offset)])
        }
        Refusal::MultipleStatements { count } => {
            lang.fill(k::REFUSAL__MULTIPLE_STATEMENTS, &[("count", count)])
        }
        Refusal::Statement { keyword } => lang.fill(k::REFUSAL__STATEMENT, &[("keyword", keyword)]),
        Refusal::NotAQuery => lang.fill(k::REFUSAL__NOT_A_QUERY, &[]),
        Refusal::Write { table } => lang.fill(k::REFUSAL__WRITE, &[("table", table)]),
        Refusal::Pragma { name } => lang.fill(k::REFUSAL__PRAGMA, &[("name", name)]),
        Refusal::Attach => lang.fill(k::REFUSAL__ATTACH, &[]),
        Refusal::Transaction => lang.fill(k::REFUSAL__TRANSACTION, &[]),
        Refusal::SchemaChange => lang.fill(k::REFUSAL__SCHEMA_CHANGE, &[]),
        Refusal::SchemaTable { name } => lang.fill(k::REFUSAL__SCHEMA_TABLE, &[("name", name)]),
        Refusal::Table { name } => lang.fill(k::REFUSAL__TABLE, &[("name", name)]),
        Refusal::Function { name } => lang.fill(k::REFUSAL__FUNCTION, &[("name", name)]),
        Refusal::VirtualTable => lang.fill(k::REFUSAL__VIRTUAL_TABLE, &[]),
        Refusal::Other { action } => lang.fill(k::REFUSAL__OTHER, &[("action", action)]),
    }
}

/// A value from a query, a file or a store on one line, control characters escaped: a
/// cell holding `ESC[2J` or a line feed and "Accepted" must print as what it is.
fn one_line(text: &str) -> String {
    terminal_safe(text, false).into_owned()
}

fn cell(c: &Cell) -> String {
    one_line(&c.to_string())
}

fn names(names: &[String]) -> String {
    names
        .iter()
        .map(|n| one_line(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(r: &Row) -> String {
    let cells: Vec<String> = r.iter().map(cell).collect();
    format!("({})", cells.join(", "))
}

fn rows_block(out: &mut String, title: &str, rows: &[Row], total: usize) {
    let _ = writeln!(out, "    {title}");
    for r in rows {
        let _ = writeln!(out, "      {}", row(r));
    }
    if total > rows.len() {
        let _ = writeln!(out, "      … (+{})", total - rows.len());
    }
}

fn difference(out: &mut String, d: &Difference, lang: Lang) {
    let column = d
        .column
        .map(|c| lang.fill(k::CLI__AT_COLUMN, &[("column", &c)]))
        .unwrap_or_default();
    let show = |r: &Option<Row>| {
        r.as_ref()
            .map_or_else(|| lang.text(k::CLI__NO_ROW).to_owned(), row)
    };
    let line = lang.fill(
        k::CLI__FIRST_DIFFERENCE,
        &[
            ("row", &d.row),
            ("column", &column),
            ("expected", &show(&d.expected)),
            ("actual", &show(&d.actual)),
        ],
    );
    let _ = writeln!(out, "{line}");
}

fn mismatch(out: &mut String, m: &Mismatch, lang: Lang) {
    let line = match m {
        Mismatch::ColumnCount { expected, actual } => lang.fill(
            k::CLI__COLUMN_COUNT,
            &[("expected", expected), ("actual", actual)],
        ),
        Mismatch::ColumnNames { expected, actual } => lang.fill(
            k::CLI__COLUMN_NAMES,
            &[("expected", &names(expected)), ("actual", &names(actual))],
        ),
        Mismatch::Rows {
            table,
            expected_rows,
            actual_rows,
            missing_count,
            extra_count,
            missing,
            extra,
            first_difference,
        } => {
            let table = table
                .as_deref()
                .map(|t| format!("[{t}] "))
                .unwrap_or_default();
            let summary = lang.fill(
                k::CLI__ROWS,
                &[
                    ("table", &table),
                    ("expected", expected_rows),
                    ("actual", actual_rows),
                    ("missing", missing_count),
                    ("extra", extra_count),
                ],
            );
            let _ = writeln!(out, "{summary}");
            if !missing.is_empty() {
                rows_block(
                    out,
                    lang.text(k::CLI__MISSING_ROWS),
                    missing,
                    *missing_count,
                );
            }
            if !extra.is_empty() {
                rows_block(out, lang.text(k::CLI__EXTRA_ROWS), extra, *extra_count);
            }
            if let Some(d) = first_difference {
                difference(out, d, lang);
            }
            return;
        }
        Mismatch::Order { first_difference } => {
            let _ = writeln!(out, "    {}", lang.text(k::CLI__WRONG_ORDER));
            difference(out, first_difference, lang);
            return;
        }
    };
    let _ = writeln!(out, "{line}");
}

fn detail(out: &mut String, d: &Detail, lang: Lang) {
    let line = match d {
        Detail::Mismatch { mismatch: m } => return mismatch(out, m, lang),
        Detail::RuntimeError { message, line } => lang.fill(
            k::CLI__RUNTIME_ERROR,
            &[("line", line), ("message", &one_line(message))],
        ),
        Detail::TimeLimit {
            by_wall_clock: true,
            ..
        } => lang.text(k::CLI__TIME_LIMIT_WALL).to_owned(),
        Detail::TimeLimit { steps, limit, .. } => lang.fill(
            k::CLI__TIME_LIMIT_STEPS,
            &[("steps", steps), ("limit", limit)],
        ),
        Detail::OutputLimit {
            rows,
            row_limit,
            bytes,
        } => lang.fill(
            k::CLI__OUTPUT_LIMIT,
            &[("rows", rows), ("bytes", bytes), ("limit", row_limit)],
        ),
    };
    let _ = writeln!(out, "{line}");
}

fn grid(out: &mut String, r: &ResultSet) {
    let columns: Vec<String> = r.columns.iter().map(|c| one_line(c)).collect();
    let _ = writeln!(out, "    | {} |", columns.join(" | "));
    for cells in r.rows.iter().take(SHOWN_ROWS) {
        let cells: Vec<String> = cells.iter().map(cell).collect();
        let _ = writeln!(out, "    | {} |", cells.join(" | "));
    }
    let more = r.rows.len().saturating_sub(SHOWN_ROWS) as u64 + r.omitted_rows;
    if more > 0 {
        let _ = writeln!(out, "    … (+{more})");
    }
}

/// The whole report of one grading.
pub fn grading(g: &Grading, lang: Lang) -> String {
    let mut out = String::new();
    let head = verdict(g.verdict, lang);
    let _ = if g.scope == Scope::All {
        writeln!(
            out,
            "{head} — {} / {} {}",
            g.score,
            g.max_score,
            lang.text(k::CLI__POINTS)
        )
    } else {
        writeln!(out, "{head} {}", lang.text(k::CLI__SAMPLES_ONLY))
    };
    match &g.diagnostic {
        Some(Diagnostic::Forbidden { refusal: r }) => {
            let _ = writeln!(out, "  {}", refusal(r, lang));
        }
        Some(Diagnostic::SqlError {
            message,
            line,
            column,
        }) => {
            let sentence = lang.fill(
                k::CLI__SQL_ERROR,
                &[
                    ("line", line),
                    ("column", column),
                    ("message", &one_line(message)),
                ],
            );
            let _ = writeln!(out, "{sentence}");
        }
        None => {}
    }
    let width = g.datasets.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &g.datasets {
        let figures = match (d.steps, d.wall_ms) {
            (Some(steps), Some(ms)) => {
                format!("{steps:>12} {} {ms:>8.1} ms", lang.text(k::CLI__STEPS))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:24} {figures}",
            d.name,
            verdict(d.verdict, lang)
        );
        if let Some(detail_) = &d.detail {
            detail(&mut out, detail_, lang);
        }
        if d.visibility == Visibility::Sample && d.verdict != Verdict::Accepted {
            match &d.produced {
                Some(Produced::Rows(r)) => {
                    let _ = writeln!(out, "    {}", lang.text(k::CLI__YOUR_RESULT));
                    grid(&mut out, r);
                }
                Some(Produced::Tables(_)) | None => {}
            }
        }
    }
    if !g.groups.is_empty() {
        let groups: Vec<String> = g
            .groups
            .iter()
            .map(|s| format!("{} {}/{}", s.name, s.earned, s.points))
            .collect();
        let _ = writeln!(out, "  {} {}", lang.text(k::CLI__GROUPS), groups.join(", "));
    }
    let _ = writeln!(
        out,
        "  SQLite {} · grader {}",
        g.sqlite_version, g.grader_version
    );
    out
}

/// A session refusal as a sentence.
pub fn session_error(e: &sqlexam_core::session::SessionError, lang: Lang) -> String {
    use sqlexam_core::session::SessionError as E;
    let key = match e {
        E::TimeUp => k::CLI__SESSION__TIME_UP,
        E::Ended => k::CLI__SESSION__ENDED,
        E::Interrupted => k::CLI__SESSION__INTERRUPTED,
        E::WrongPassphrase => k::CLI__SESSION__WRONG_PASSPHRASE,
        E::AdmissionNeeded(_) => k::CLI__SESSION__ADMISSION_NEEDED,
        E::WrongAdmissionCode(_) => k::CLI__SESSION__WRONG_ADMISSION_CODE,
        other => return other.to_string(),
    };
    lang.text(key).to_owned()
}
