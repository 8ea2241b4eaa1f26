//! Hex and RFC 3339 helpers shared by values, packs and records, and the escaping of text
//! for terminals.

use std::borrow::Cow;
use std::fmt::Write;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Upper-case hex, as used for blobs in JSON.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Lower-case hex, as used for hashes, keys and signatures.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes hex of either case; `None` if it is not hex of even length.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses an RFC 3339 time (`2026-12-01T09:00:00Z`).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Formats a time as RFC 3339 in UTC, to the second.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Text that is safe to print on a terminal. Every control character (C0, DEL, C1) and
/// every bidirectional-formatting character is written as an escape (`\x1b`, `\u{202e}`;
/// `\n`, `\r`, `\t` as such), so what a query, a file or a store holds cannot move the
/// cursor, clear the screen, recolour or reorder what is printed around it. With
/// `keep_lines`, line feeds and tabs stay as they are: for whole messages whose line
/// structure is ours. JSON output is never passed through this: it must stay exact.
pub fn terminal_safe(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        !(keep_lines && (c == '\n' || c == '\t'))
            && (c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
            c => write!(out, "\\u{{{:x}}}", c as u32),
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_and_bidi_characters_are_escaped_for_terminals() {
        assert_eq!(
            terminal_safe("\u{1b}[2J\rAccepted", false),
            "\\x1b[2J\\rAccepted"
        );
        assert_eq!(terminal_safe("a\nb\tc", false), "a\\nb\\tc");
        assert_eq!(terminal_safe("a\nb\tc", true), "a\nb\tc");
        assert_eq!(terminal_safe("\u{9b}31m\u{7f}", true), "\\x9b31m\\x7f");
        assert_eq!(terminal_safe("abc\u{202e}cba", true), "abc\\u{202e}cba");
        assert_eq!(terminal_safe("日本語 ok", false), "日本語 ok");
    }
}
