//! Gradings as text for people, in English or Japanese. The core hands over codes and
//! values; every sentence a person reads is built here.

use std::fmt::Write;

use sqlexam_core::encoding::terminal_safe;
use sqlexam_core::grade::{
    Detail, Diagnostic, Difference, Grading, Mismatch, Produced, Refusal, Scope, Verdict,
};
use sqlexam_core::problem::Visibility;
use sqlexam_core::value::{Cell, ResultSet, Row};

use crate::lang::Lang;

/// Rows of produced output shown under "run on sample".
const SHOWN_ROWS: usize = 20;

pub fn verdict(v: Verdict, lang: Lang) -> &'static str {
    lang.export().verdict(v)
}

/// Why a query was refused, on one line (names in it come from the query).
pub fn refusal(r: &Refusal, lang: Lang) -> String {
    one_line(&refusal_text(r, lang))
}

fn refusal_text(r: &Refusal, lang: Lang) -> String {
    let en = lang == Lang::En;
    match r {
        Refusal::Empty => lang.pick("The query is empty.", "クエリが空です。").into(),
        Refusal::TooLong { bytes, limit } if en => {
            format!("The query is {bytes} bytes long; the limit is {limit}.")
        }
        Refusal::TooLong { bytes, limit } => {
            format!("クエリが長すぎます（{bytes} バイト、上限 {limit} バイト）。")
        }
        Refusal::NulByte { offset } if en => {
            format!("The query contains a NUL byte at byte {offset}.")
        }
        Refusal::NulByte { offset } => format!("クエリの {offset} バイト目に NUL 文字があります。"),
        Refusal::InvalidUtf8 { offset } if en => {
            format!("The query is not valid UTF-8 text (from byte {offset}).")
        }
        Refusal::InvalidUtf8 { offset } => {
            format!("クエリが UTF-8 として正しくありません（{offset} バイト目から）。")
        }
        Refusal::MultipleStatements { count } if en => {
            format!("This problem takes exactly one SQL statement; the query has {count}.")
        }
        Refusal::MultipleStatements { count } => {
            format!("この問題では SQL 文を 1 つだけ書いてください（{count} 文あります）。")
        }
        Refusal::Statement { keyword } if en => {
            format!("{keyword} statements are not allowed in this problem.")
        }
        Refusal::Statement { keyword } => format!("この問題では {keyword} 文は使えません。"),
        Refusal::NotAQuery => lang
            .pick(
                "This problem asks for one SELECT query that returns rows and changes nothing.",
                "この問題では、データを変更せずに行を返す SELECT 文を 1 つ書いてください。",
            )
            .into(),
        Refusal::Write { table } if en => format!("Changing table {table} is not allowed here."),
        Refusal::Write { table } => format!("ここではテーブル {table} を変更できません。"),
        Refusal::Pragma { name } if en => format!("PRAGMA {name} is not allowed in this exam."),
        Refusal::Pragma { name } => format!("この試験では PRAGMA {name} は使えません。"),
        Refusal::Attach => lang
            .pick(
                "ATTACH and DETACH are not allowed in this exam.",
                "この試験では ATTACH / DETACH は使えません。",
            )
            .into(),
        Refusal::Transaction => lang
            .pick(
                "Transactions and savepoints are not allowed in this exam.",
                "この試験ではトランザクションやセーブポイントは使えません。",
            )
            .into(),
        Refusal::SchemaChange => lang
            .pick(
                "Changing the schema (CREATE, DROP, ALTER …) is not allowed in this exam.",
                "この試験ではスキーマの変更（CREATE、DROP、ALTER など）はできません。",
            )
            .into(),
        Refusal::SchemaTable { name } if en => {
            format!("SQLite's internal table {name} is not part of this exam.")
        }
        Refusal::SchemaTable { name } => format!("SQLite の内部テーブル {name} は使えません。"),
        Refusal::Table { name } if en => format!("Table {name} is not part of this problem."),
        Refusal::Table { name } => format!("テーブル {name} はこの問題にはありません。"),
        Refusal::Function { name } if en => {
            format!("The function {name}() is not allowed in this exam.")
        }
        Refusal::Function { name } => format!("この試験では関数 {name}() は使えません。"),
        Refusal::VirtualTable => lang
            .pick(
                "Virtual tables (json_each, pragma_…, fts …) are not allowed in this exam.",
                "この試験では仮想テーブル（json_each、pragma_…、fts など）は使えません。",
            )
            .into(),
        Refusal::Other { action } if en => {
            format!("The operation {action} is not allowed in this exam.")
        }
        Refusal::Other { action } => format!("この試験では操作 {action} は使えません。"),
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
    let col = d
        .column
        .map(|c| lang.pick(" column ", "、列 ").to_owned() + &c.to_string())
        .unwrap_or_default();
    let show = |r: &Option<Row>| {
        r.as_ref()
            .map_or_else(|| lang.pick("(no row)", "（行なし）").to_owned(), row)
    };
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "    First difference at row {}{col}: expected {} but got {}",
            d.row,
            show(&d.expected),
            show(&d.actual)
        ),
        Lang::Ja => writeln!(
            out,
            "    最初の違い: {} 行目{col}　期待値 {}　実際 {}",
            d.row,
            show(&d.expected),
            show(&d.actual)
        ),
    };
}

fn mismatch(out: &mut String, m: &Mismatch, lang: Lang) {
    match m {
        Mismatch::ColumnCount { expected, actual } => {
            let _ = match lang {
                Lang::En => writeln!(out, "    Expected {expected} columns, got {actual}."),
                Lang::Ja => writeln!(
                    out,
                    "    列数が違います（期待 {expected} 列、実際 {actual} 列）。"
                ),
            };
        }
        Mismatch::ColumnNames { expected, actual } => {
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "    Column names differ: expected {}, got {}.",
                    names(expected),
                    names(actual)
                ),
                Lang::Ja => writeln!(
                    out,
                    "    列名が違います（期待 {}、実際 {}）。",
                    names(expected),
                    names(actual)
                ),
            };
        }
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
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "    {table}Expected {expected_rows} rows, got {actual_rows}: {missing_count} missing, {extra_count} extra."
                ),
                Lang::Ja => writeln!(
                    out,
                    "    {table}期待 {expected_rows} 行、実際 {actual_rows} 行（不足 {missing_count} 行、余分 {extra_count} 行）。"
                ),
            };
            if !missing.is_empty() {
                rows_block(
                    out,
                    lang.pick("Missing rows:", "不足している行:"),
                    missing,
                    *missing_count,
                );
            }
            if !extra.is_empty() {
                rows_block(
                    out,
                    lang.pick("Extra rows:", "余分な行:"),
                    extra,
                    *extra_count,
                );
            }
            if let Some(d) = first_difference {
                difference(out, d, lang);
            }
        }
        Mismatch::Order { first_difference } => {
            let _ = writeln!(
                out,
                "    {}",
                lang.pick(
                    "The rows are right but in the wrong order.",
                    "行は正しいですが、順序が違います。"
                )
            );
            difference(out, first_difference, lang);
        }
    }
}

fn detail(out: &mut String, d: &Detail, lang: Lang) {
    match d {
        Detail::Mismatch { mismatch: m } => mismatch(out, m, lang),
        Detail::RuntimeError { message, line } => {
            let message = one_line(message);
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "    SQLite error (statement at line {line}): {message}"
                ),
                Lang::Ja => writeln!(out, "    SQLite のエラー（{line} 行目の文）: {message}"),
            };
        }
        Detail::TimeLimit {
            steps,
            limit,
            by_wall_clock,
        } => {
            let _ = match (lang, by_wall_clock) {
                (Lang::En, false) => writeln!(
                    out,
                    "    The query did too much work: stopped after {steps} of {limit} allowed steps. It is about efficiency, not the answer: look for a missing join condition, a recursive CTE that never stops, or a subquery run once per row of a big table."
                ),
                (Lang::Ja, false) => writeln!(
                    out,
                    "    処理量が多すぎるため中断しました（上限 {limit} ステップ中 {steps}）。答えではなく効率の問題です。結合条件の抜け、終わらない再帰 CTE、大きな表の行ごとに実行される副問い合わせがないか確認してください。"
                ),
                (Lang::En, true) => writeln!(
                    out,
                    "    The query ran past the submission's time allowance. It is about efficiency, not the answer."
                ),
                (Lang::Ja, true) => writeln!(
                    out,
                    "    提出の制限時間を超えました。答えではなく効率の問題です。"
                ),
            };
        }
        Detail::OutputLimit {
            rows,
            row_limit,
            bytes,
        } => {
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "    The result grew past the limit ({rows} rows, {bytes} bytes; at most {row_limit} rows)."
                ),
                Lang::Ja => writeln!(
                    out,
                    "    結果が上限を超えました（{rows} 行、{bytes} バイト。上限 {row_limit} 行）。"
                ),
            };
        }
    }
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
            lang.pick("points", "点")
        )
    } else {
        writeln!(
            out,
            "{head} {}",
            lang.pick("(sample datasets only)", "（サンプルのみ）")
        )
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
            let message = one_line(message);
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "  SQLite error at line {line}, column {column}: {message}"
                ),
                Lang::Ja => writeln!(out, "  SQLite のエラー（{line} 行 {column} 列）: {message}"),
            };
        }
        None => {}
    }
    let width = g.datasets.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &g.datasets {
        let figures = match (d.steps, d.wall_ms) {
            (Some(steps), Some(ms)) => format!(
                "{steps:>12} {} {ms:>8.1} ms",
                lang.pick("steps", "ステップ")
            ),
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
                    let _ = writeln!(out, "    {}", lang.pick("Your result:", "あなたの結果:"));
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
        let _ = writeln!(
            out,
            "  {} {}",
            lang.pick("Groups:", "グループ:"),
            groups.join(", ")
        );
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
    match e {
        E::TimeUp => lang
            .pick("the exam time is over.", "試験時間は終了しました。")
            .into(),
        E::Ended => lang
            .pick(
                "the exam has ended for this candidate.",
                "この受験者の試験は終了しています。",
            )
            .into(),
        E::Interrupted => lang
            .pick(
                "the exam is paused until a proctor resumes it.",
                "試験監督者が再開するまで試験は中断しています。",
            )
            .into(),
        E::WrongPassphrase => lang
            .pick(
                "the proctor passphrase is wrong.",
                "試験監督者のパスフレーズが違います。",
            )
            .into(),
        other => other.to_string(),
    }
}
