//! Results as tables for people: CSV that Excel (in any locale) opens without mangling, and
//! an XLSX workbook. Both have the same columns, in the chosen language.
//!
//! CSV rules (docs/export-format.md): UTF-8 with a byte-order mark (Excel in a Japanese
//! locale reads UTF-8 without one as Shift-JIS); CRLF line ends; text that Excel would read
//! as a formula (`=`, `+`, `-`, `@`, tab or CR first) gets a leading `'`; text that Excel
//! would read as a number or date (anything starting with a digit, such as a candidate id
//! `007`) is written as the text formula `="007"`, which Excel shows as the text itself.
//! One row per candidate × problem, each candidate's rows followed by a summary row.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::lang::exam_time;
use crate::results::{CandidateResult, ProblemResult, Results};
use crate::{ExportError, Lang};
use sqlexam_i18n::k;

/// The detail columns, by language. The last two only for a server's results.
fn detail_headers(lang: Lang, regrade: bool) -> Vec<&'static str> {
    let mut h = vec![
        lang.text(k::EXPORT__CANDIDATE_ID),
        lang.text(k::EXPORT__NAME),
        lang.text(k::EXPORT__VENUE),
        lang.text(k::EXPORT__PROBLEM),
        lang.text(k::EXPORT__SCORE),
        lang.text(k::EXPORT__MAX_SCORE),
        lang.text(k::EXPORT__VERDICT),
        lang.text(k::EXPORT__ATTEMPTS),
        lang.text(k::EXPORT__BEST_AT_EXAM_TIME),
    ];
    if regrade {
        h.push(lang.text(k::EXPORT__AWAITING_RE_GRADE));
        h.push(lang.text(k::EXPORT__SERVER_DISAGREES));
        h.push(lang.text(k::EXPORT__CLAIMED));
        h.push(lang.text(k::EXPORT__WITHHELD));
    }
    h
}

/// A value of a row: text or a whole number.
enum Value {
    Text(String),
    Number(u64),
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn number(n: impl Into<u64>) -> Value {
    Value::Number(n.into())
}

fn detail_row(c: &CandidateResult, p: &ProblemResult, lang: Lang, regrade: bool) -> Vec<Value> {
    let mut row = vec![
        text(&c.candidate),
        text(&c.name),
        text(c.venues.join(", ")),
        text(&p.problem),
        number(p.score),
        number(p.max_score),
        text(
            p.verdict
                .map(|v| crate::lang::verdict(lang, v))
                .unwrap_or_default(),
        ),
        number(p.attempts),
        text(p.best_at_ms.map(exam_time).unwrap_or_default()),
    ];
    if regrade {
        row.push(number(p.awaiting_regrade + p.ungradable));
        row.push(number(p.disagreements));
        row.push(number(p.claimed));
        row.push(text(crate::lang::withheld(lang, c)));
    }
    row
}

/// The summary row that follows a candidate's problem rows in the CSV.
fn total_row(c: &CandidateResult, problems: usize, lang: Lang, regrade: bool) -> Vec<Value> {
    let solved = match lang {
        Lang::En => format!("{}/{problems} solved", c.solved),
        Lang::Ja => format!("{}/{problems}問 満点", c.solved),
    };
    let mut row = vec![
        text(&c.candidate),
        text(&c.name),
        text(c.venues.join(", ")),
        text(lang.text(k::EXPORT__TOTAL)),
        number(c.total),
        number(c.max_total),
        text(solved),
        number(c.attempts),
        text(""),
    ];
    if regrade {
        let sum = |f: fn(&ProblemResult) -> u32| {
            number(c.problems.iter().fold(0u32, |n, p| n.saturating_add(f(p))))
        };
        row.push(sum(|p| p.awaiting_regrade + p.ungradable));
        row.push(sum(|p| p.disagreements));
        row.push(sum(|p| p.claimed));
        row.push(text(crate::lang::withheld(lang, c)));
    }
    row
}

/// One CSV field that Excel reads back as the text it is.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else if text.starts_with(|c: char| c.is_ascii_digit()) {
        format!("=\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv_line(out: &mut String, values: &[Value]) {
    let fields: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Text(t) => csv_field(t),
            Value::Number(n) => n.to_string(),
        })
        .collect();
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// The results as CSV (with its byte-order mark).
pub fn results_csv(results: &Results, lang: Lang) -> String {
    let regrade = results.source == "server";
    let mut out = String::from('\u{feff}');
    let headers: Vec<Value> = detail_headers(lang, regrade)
        .into_iter()
        .map(text)
        .collect();
    csv_line(&mut out, &headers);
    for c in &results.candidates {
        for p in &c.problems {
            csv_line(&mut out, &detail_row(c, p, lang, regrade));
        }
        csv_line(
            &mut out,
            &total_row(c, results.problems.len(), lang, regrade),
        );
    }
    out
}

fn xlsx_err(e: XlsxError) -> ExportError {
    ExportError::Xlsx(e.to_string())
}

/// Writes a header row and rows, frozen under the header, filterable, columns sized.
fn write_sheet(
    sheet: &mut Worksheet,
    headers: &[&str],
    rows: &[Vec<Value>],
    frozen_columns: u16,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_text_wrap();
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, v) in row.iter().enumerate() {
            let c = col as u16;
            match v {
                // Strings stay strings: a candidate id `007` keeps its zeros. A cell holds
                // at most 32,767 characters: longer text (a hostile name) is cut, not a
                // failed export.
                Value::Text(t) => {
                    sheet.write_string(r, c, fit_cell(t).as_ref())?;
                    widths[col] = widths[col].max(display_width(t));
                }
                Value::Number(n) => {
                    sheet.write_number(r, c, *n as f64)?;
                    widths[col] = widths[col].max(n.to_string().len());
                }
            }
        }
    }
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*w).clamp(6, 48) as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(1, frozen_columns)?;
    let last_col = headers.len().saturating_sub(1) as u16;
    sheet.autofilter(0, 0, rows.len() as u32, last_col)?;
    Ok(())
}

/// The longest text an XLSX cell holds, in characters.
const CELL_CHARS: usize = 32_767;

/// `text`, cut to what a cell holds (ending in `…` when cut).
fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= CELL_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut cut: String = text.chars().take(CELL_CHARS - 1).collect();
    cut.push('…');
    std::borrow::Cow::Owned(cut)
}

/// Columns a text takes in a spreadsheet: East Asian wide characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum()
}

/// The results as an XLSX workbook: a summary sheet (one row per candidate, a column per
/// problem), a detail sheet (one row per candidate × problem) and the incidents.
pub fn results_xlsx(results: &Results, lang: Lang) -> Result<Vec<u8>, ExportError> {
    let regrade = results.source == "server";
    let mut book = Workbook::new();

    let mut headers: Vec<&str> = vec![
        lang.text(k::EXPORT__CANDIDATE_ID),
        lang.text(k::EXPORT__NAME),
        lang.text(k::EXPORT__VENUE),
        lang.text(k::EXPORT__TOTAL_2),
        lang.text(k::EXPORT__MAX_TOTAL),
        lang.text(k::EXPORT__PROBLEMS_AT_FULL_SCORE),
        lang.text(k::EXPORT__ATTEMPTS),
        lang.text(k::EXPORT__EXAM_TIME_USED),
    ];
    if regrade {
        headers.push(lang.text(k::EXPORT__WITHHELD));
    }
    let problem_ids: Vec<&str> = results.problems.iter().map(|p| p.id.as_str()).collect();
    headers.extend(problem_ids.iter());
    let rows: Vec<Vec<Value>> = results
        .candidates
        .iter()
        .map(|c| {
            let mut row = vec![
                text(&c.candidate),
                text(&c.name),
                text(c.venues.join(", ")),
                number(c.total),
                number(c.max_total),
                number(c.solved),
                number(c.attempts),
                text(exam_time(c.elapsed_ms)),
            ];
            if regrade {
                row.push(text(crate::lang::withheld(lang, c)));
            }
            row.extend(c.problems.iter().map(|p| number(p.score)));
            row
        })
        .collect();
    let sheet = book.add_worksheet();
    sheet
        .set_name(lang.text(k::EXPORT__SUMMARY))
        .and_then(|s| write_sheet(s, &headers, &rows, 2))
        .map_err(xlsx_err)?;

    let rows: Vec<Vec<Value>> = results
        .candidates
        .iter()
        .flat_map(|c| c.problems.iter().map(|p| detail_row(c, p, lang, regrade)))
        .collect();
    let sheet = book.add_worksheet();
    sheet
        .set_name(lang.text(k::EXPORT__DETAIL))
        .and_then(|s| write_sheet(s, &detail_headers(lang, regrade), &rows, 2))
        .map_err(xlsx_err)?;

    let headers = [
        lang.text(k::EXPORT__CANDIDATE_ID),
        lang.text(k::EXPORT__NAME),
        lang.text(k::EXPORT__SESSION),
        lang.text(k::EXPORT__RECORD),
        lang.text(k::EXPORT__EXAM_TIME),
        lang.text(k::EXPORT__WHAT_HAPPENED),
        lang.text(k::EXPORT__DETAIL),
    ];
    let rows: Vec<Vec<Value>> = results
        .candidates
        .iter()
        .flat_map(|c| {
            c.incidents.iter().map(|i| {
                vec![
                    text(&c.candidate),
                    text(&c.name),
                    text(&i.session),
                    number(i.seq),
                    text(i.elapsed_ms.map(exam_time).unwrap_or_default()),
                    text(crate::lang::incident(lang, &i.kind)),
                    text(&i.detail),
                ]
            })
        })
        .collect();
    let sheet = book.add_worksheet();
    sheet
        .set_name(lang.text(k::EXPORT__INCIDENTS))
        .and_then(|s| write_sheet(s, &headers, &rows, 2))
        .map_err(xlsx_err)?;

    book.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_keep_their_text_in_excel() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        // Leading zeros, long ids and date-like text stay text.
        assert_eq!(csv_field("007"), "\"=\"\"007\"\"\"");
        assert_eq!(csv_field("1-2"), "\"=\"\"1-2\"\"\"");
        assert_eq!(csv_field("山田"), "山田");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn a_name_longer_than_a_cell_is_cut_not_a_failed_workbook() {
        use crate::results::{Attempt, Regrade, ResultsBuilder, Sitting};
        use sqlexam_core::grade::Verdict;
        let pack = sqlexam_core::record::PackRef {
            id: "x".into(),
            version: "1".into(),
            hash: "h".into(),
        };
        let mut b = ResultsBuilder::new(pack, "device");
        b.sitting(Sitting {
            session: "s".into(),
            candidate: "=cmd|' /C calc'!A0".into(),
            name: "名".repeat(40_000),
            device: "d".into(),
            venue: String::new(),
        });
        b.attempt(Attempt {
            session: "s".into(),
            problem: "p".into(),
            submitted_ms: 1,
            device_verdict: Verdict::Accepted,
            device_score: 1,
            max_score: 1,
            regrade: Regrade::NotApplicable,
        });
        let results = b.finish("2026-11-30T12:00:00Z");
        assert!(results_xlsx(&results, Lang::Ja).is_ok());
        let csv = results_csv(&results, Lang::En);
        assert!(csv.contains("'=cmd|' /C calc'!A0"), "never a formula");
        assert_eq!(fit_cell(&"a".repeat(40_000)).chars().count(), CELL_CHARS);
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("受験者"), 6);
    }
}
