//! Splitting candidate SQL into statements and finding each one's first keyword, in one
//! linear pass that knows SQL's quoting and comments. (Organizer files, which may define
//! triggers whose bodies hold `;`, are split with `sqlite3_complete` instead; candidates
//! cannot create triggers, and a CREATE is refused by its first keyword anyway.)

use std::ops::Range;

/// Byte ranges of the statements in `sql`, each including its `;`; text after the last `;`
/// is a final range. Ranges may hold only white space and comments.
pub(crate) fn statement_ranges(sql: &str) -> Vec<Range<usize>> {
    let bytes = sql.as_bytes();
    let mut ranges = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => i = skip_quoted(bytes, i, q),
            b'[' => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(bytes.len(), |p| i + p + 1)
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
            }
            b';' => {
                ranges.push(start..i + 1);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        ranges.push(start..bytes.len());
    }
    ranges
}

/// The index just past a quoted run starting at `i` (a doubled quote is part of it).
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The first word of a statement after white space and comments; `None` if there is none.
/// Anything that is not a word (a stray `(`) is returned as itself.
pub(crate) fn first_keyword(sql: &str) -> Option<String> {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix(';') {
            rest = after;
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    match (word.is_empty(), rest.chars().next()) {
        (false, _) => Some(word),
        (true, Some(c)) => Some(c.to_string()),
        (true, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sql: &str) -> Vec<&str> {
        statement_ranges(sql).into_iter().map(|r| &sql[r]).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        assert_eq!(split("SELECT 1; SELECT ';'"), ["SELECT 1;", " SELECT ';'"]);
        assert_eq!(
            split("SELECT 'it''s;' -- a;b\n;"),
            ["SELECT 'it''s;' -- a;b\n;"]
        );
        assert_eq!(
            split("SELECT \"a;b\", [c;d], `e;f` /* ; */ FROM t;x"),
            ["SELECT \"a;b\", [c;d], `e;f` /* ; */ FROM t;", "x"]
        );
        assert_eq!(
            split("SELECT 'unterminated; still"),
            ["SELECT 'unterminated; still"]
        );
    }

    #[test]
    fn splitting_is_linear_in_pathological_input() {
        let sql = format!("CREATE TRIGGER t {}", ";".repeat(100_000));
        assert_eq!(statement_ranges(&sql).len(), 100_000);
    }

    #[test]
    fn first_keyword_skips_comments_and_semicolons() {
        assert_eq!(
            first_keyword("  -- hi\n /* x */ select 1").as_deref(),
            Some("select")
        );
        assert_eq!(first_keyword(";; PRAGMA x").as_deref(), Some("PRAGMA"));
        assert_eq!(first_keyword(" -- only a comment"), None);
        assert_eq!(first_keyword("(SELECT 1)").as_deref(), Some("("));
    }
}
