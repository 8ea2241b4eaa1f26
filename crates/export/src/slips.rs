//! Admission slips: what the organizer prints and hands each candidate on the roster — the
//! exam, the candidate's id and name, and their admission code (shown this once: the pack
//! keeps only a key derived from it). A printable HTML page (one slip a candidate, both
//! languages, cut lines) and a CSV for mail merge.

use std::fmt::Write;

use sqlexam_core::problem::Localized;
use sqlexam_i18n::{Lang, k};

use crate::report::esc;
use crate::table::csv_field;

/// One candidate's slip.
pub struct Slip<'a> {
    pub candidate: &'a str,
    pub name: &'a str,
    pub code: &'a str,
}

/// The slips as CSV (UTF-8 with a byte-order mark, CRLF): candidate, name, code.
pub fn slips_csv(slips: &[Slip<'_>]) -> String {
    let mut out = String::from("\u{feff}candidate,name,admission_code\r\n");
    for s in slips {
        let _ = write!(
            out,
            "{},{},{}\r\n",
            csv_field(s.candidate),
            csv_field(s.name),
            csv_field(s.code)
        );
    }
    out
}

/// The slips as a printable page: each slip in English and Japanese.
pub fn slips_html(exam: &Localized, version: &str, slips: &[Slip<'_>]) -> String {
    let (en, ja) = (Lang::En, Lang::Ja);
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\
         <style>body{{font-family:sans-serif;margin:0}}\
         .slip{{border-bottom:1px dashed #888;padding:12mm 14mm;page-break-inside:avoid}}\
         .code{{font:bold 20pt monospace;letter-spacing:2px;margin:4mm 0}}\
         .small{{font-size:9pt;color:#333}}</style></head><body>",
        esc(&exam.en),
        esc(en.text(k::SLIP__TITLE)),
    );
    for s in slips {
        let _ = write!(
            html,
            "<section class=\"slip\"><div><strong>{} {}</strong> · {} / {}</div>\
             <div>{} / {}: <strong>{}</strong> — {}</div>\
             <div class=\"code\">{}</div>\
             <div class=\"small\">{}<br><span lang=\"ja\">{}</span></div></section>",
            esc(&exam.en),
            esc(version),
            esc(en.text(k::SLIP__TITLE)),
            esc(ja.text(k::SLIP__TITLE)),
            esc(en.text(k::SLIP__CANDIDATE)),
            esc(ja.text(k::SLIP__CANDIDATE)),
            esc(s.candidate),
            esc(s.name),
            esc(s.code),
            esc(en.text(k::SLIP__HOW)),
            esc(ja.text(k::SLIP__HOW)),
        );
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_shows_its_code_and_no_name_becomes_markup() {
        let exam = Localized {
            en: "SQL <basics>".into(),
            ja: "SQL 基礎".into(),
        };
        let slips = [Slip {
            candidate: "007",
            name: "<script>x</script>",
            code: "7G4K2-QXM9P-ZRH3",
        }];
        let html = slips_html(&exam, "1.0.0", &slips);
        assert!(html.contains("7G4K2-QXM9P-ZRH3"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
        assert!(html.contains("SQL &lt;basics&gt;"));
        let csv = slips_csv(&slips);
        // Excel-safe, as every CSV here: text starting with a digit stays text.
        assert!(
            csv.contains("\"=\"\"007\"\"\",<script>x</script>,\"=\"\"7G4K2-QXM9P-ZRH3\"\"\"\r\n"),
            "{csv}"
        );
    }
}
