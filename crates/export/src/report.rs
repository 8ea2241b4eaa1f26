//! The session report for a proctor's paperwork: one printable HTML page (A4) in English or
//! Japanese — venue, times, candidates and scores, a histogram of the totals, the incidents
//! (crashes and resumes, extensions, refusals), the bundles' fingerprints and a line to
//! sign — and its PDF, printed by a headless Chromium (or Edge) when one is installed.
//! Every text from records is escaped; the page loads nothing.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Lang;
use crate::lang::exam_time;
use crate::results::Results;
use sqlexam_i18n::k;

/// What the report says besides the results.
pub struct ReportFacts<'a> {
    pub venue: &'a str,
    /// Fingerprints of the bundles the results come from (none: straight from a store).
    pub fingerprints: &'a [String],
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A bar chart (inline SVG) of how many candidates reached each tenth of the maximum.
fn histogram(totals: &[u32], max: u32, lang: Lang) -> String {
    const BINS: usize = 10;
    let mut counts = [0u32; BINS];
    for &t in totals {
        let bin = if max == 0 {
            0
        } else {
            (t as usize * BINS / max as usize).min(BINS - 1)
        };
        counts[bin] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, bw) = (500.0, 120.0, 50.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"{}\">",
        h + 30.0,
        esc(lang.text(k::EXPORT__DISTRIBUTION_OF_TOTALS))
    );
    for (i, n) in counts.iter().enumerate() {
        let bh = f64::from(*n) / f64::from(top) * (h - 16.0);
        let x = i as f64 * bw;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{bh}\" fill=\"#1f4e8c\"/>",
            x + 3.0,
            h - bh,
            bw - 6.0
        );
        if *n > 0 {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{n}</text>",
                x + bw / 2.0,
                h - bh - 3.0
            );
        }
        let from = i as u32 * max / BINS as u32;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{from}–</text>",
            x + bw / 2.0,
            h + 14.0
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"0\" x2=\"{w}\" y1=\"{h}\" y2=\"{h}\" stroke=\"#999\"/></svg>"
    );
    svg
}

/// The report as a whole HTML document.
pub fn report_html(results: &Results, facts: &ReportFacts<'_>, lang: Lang) -> String {
    let c = &results.candidates;
    let first = c.iter().filter_map(|c| c.first_wall_time.as_deref()).min();
    let last = c.iter().filter_map(|c| c.last_wall_time.as_deref()).max();
    let sessions: usize = c.iter().map(|c| c.sessions.len()).sum();
    let devices: std::collections::BTreeSet<&str> = c
        .iter()
        .flat_map(|c| c.devices.iter().map(String::as_str))
        .collect();
    let max_total = results
        .problems
        .iter()
        .fold(0u32, |n, p| n.saturating_add(p.max_score));
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {} {}</title>\
         <style>{STYLE}</style></head><body>",
        lang.code(),
        esc(lang.text(k::EXPORT__SESSION_REPORT)),
        esc(&results.exam.id),
        esc(&results.exam.version)
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"sub\">{} {} <code>{}</code></p>",
        esc(lang.text(k::EXPORT__SESSION_REPORT)),
        esc(&results.exam.id),
        esc(&results.exam.version),
        esc(&results.exam.hash)
    );
    let row = |html: &mut String, k: &str, v: &str| {
        let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    html.push_str("<table class=\"facts\">");
    row(&mut html, lang.text(k::EXPORT__VENUE), facts.venue);
    row(
        &mut html,
        lang.text(k::EXPORT__FIRST_RECORD),
        first.unwrap_or("—"),
    );
    row(
        &mut html,
        lang.text(k::EXPORT__LAST_RECORD),
        last.unwrap_or("—"),
    );
    row(
        &mut html,
        lang.text(k::EXPORT__CANDIDATES),
        &format!(
            "{} ({} {}, {} {})",
            c.len(),
            sessions,
            lang.text(k::EXPORT__SESSIONS),
            devices.len(),
            lang.text(k::EXPORT__DEVICES)
        ),
    );
    row(
        &mut html,
        lang.text(k::EXPORT__REPORT_MADE),
        &results.generated_at,
    );
    for f in facts.fingerprints {
        row(&mut html, lang.text(k::EXPORT__BUNDLE_FINGERPRINT), f);
    }
    html.push_str("</table>");

    let _ = write!(
        html,
        "<h2>{}</h2><table class=\"grid\"><thead><tr><th>{}</th><th>{}</th><th class=\"num\">{}</th>",
        esc(lang.text(k::EXPORT__CANDIDATES_AND_SCORES)),
        esc(lang.text(k::EXPORT__CANDIDATE_ID)),
        esc(lang.text(k::EXPORT__NAME)),
        esc(lang.text(k::EXPORT__TOTAL_2))
    );
    for pr in &results.problems {
        let _ = write!(html, "<th class=\"num\">{}</th>", esc(&pr.id));
    }
    let _ = write!(
        html,
        "<th class=\"num\">{}</th><th class=\"num\">{}</th><th>{}</th></tr></thead><tbody>",
        esc(lang.text(k::EXPORT__ATTEMPTS_2)),
        esc(lang.text(k::EXPORT__TIME_USED)),
        esc(lang.text(k::EXPORT__ENDED))
    );
    for cand in c {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{} / {}</td>",
            esc(&cand.candidate),
            esc(&cand.name),
            cand.total,
            cand.max_total
        );
        for pr in &cand.problems {
            let _ = write!(html, "<td class=\"num\">{}</td>", pr.score);
        }
        let ended = match cand.ended.as_deref() {
            Some("time_up") => lang.text(k::EXPORT__TIME_UP),
            Some("finished") => lang.text(k::EXPORT__BY_THE_CANDIDATE),
            Some("proctor") => lang.text(k::EXPORT__BY_THE_PROCTOR),
            Some(_) => lang.text(k::EXPORT__ENDED_2),
            None => lang.text(k::EXPORT__NOT_ENDED),
        };
        let _ = write!(
            html,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            cand.attempts,
            exam_time(cand.elapsed_ms),
            esc(ended)
        );
    }
    html.push_str("</tbody></table>");

    let totals: Vec<u32> = c.iter().map(|c| c.total).collect();
    let _ = write!(
        html,
        "<h2>{}</h2><div class=\"chart\">{}</div>",
        esc(lang.text(k::EXPORT__DISTRIBUTION_OF_TOTALS)),
        histogram(&totals, max_total, lang)
    );

    let _ = write!(html, "<h2>{}</h2>", esc(lang.text(k::EXPORT__INCIDENTS)));
    let incidents: Vec<_> = c
        .iter()
        .flat_map(|cand| cand.incidents.iter().map(move |i| (cand, i)))
        .collect();
    if incidents.is_empty() {
        let _ = write!(
            html,
            "<p>{}</p>",
            esc(lang.text(k::EXPORT__NONE_NO_INTERRUPTION_EXTENSION_OR))
        );
    } else {
        let _ = write!(
            html,
            "<table class=\"grid\"><thead><tr><th>{}</th><th class=\"num\">{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(lang.text(k::EXPORT__CANDIDATE_ID)),
            esc(lang.text(k::EXPORT__EXAM_TIME)),
            esc(lang.text(k::EXPORT__WHAT_HAPPENED)),
            esc(lang.text(k::EXPORT__DETAIL))
        );
        for (cand, i) in incidents {
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&cand.candidate),
                i.elapsed_ms.map(exam_time).unwrap_or_default(),
                esc(&crate::lang::incident(lang, &i.kind)),
                esc(&i.detail)
            );
        }
        html.push_str("</tbody></table>");
    }
    let _ = write!(
        html,
        "<p class=\"sign\">{} ____________________ &nbsp; {} ____________</p></body></html>",
        esc(lang.text(k::EXPORT__PROCTOR_NAME_SIGNATURE)),
        esc(lang.text(k::EXPORT__DATE))
    );
    html
}

const STYLE: &str = "@page{size:A4;margin:14mm}\
body{font-family:'Noto Sans','Noto Sans CJK JP',sans-serif;font-size:10.5pt;color:#111}\
h1{font-size:16pt;margin:0}h2{font-size:12pt;margin:14pt 0 4pt}\
.sub{color:#555;margin:2pt 0 8pt}code{font-size:8pt;word-break:break-all}\
table{border-collapse:collapse}table.grid{width:100%}\
th,td{text-align:left;padding:2pt 5pt;border-bottom:0.5pt solid #bbb;vertical-align:top}\
.facts th{font-weight:600;padding-right:12pt}.num{text-align:right}\
tr{page-break-inside:avoid}.chart svg{width:120mm;height:auto}\
.sign{margin-top:24pt}";

/// A browser that can print to PDF: `SQLEXAM_CHROMIUM`, else Chromium, Chrome or Edge
/// where they are usually installed.
pub fn find_browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SQLEXAM_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let mut candidates: Vec<PathBuf> = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/usr/bin/microsoft-edge",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for base in ["ProgramFiles(x86)", "ProgramFiles"] {
        if let Some(dir) = std::env::var_os(base) {
            let dir = PathBuf::from(dir);
            candidates.push(dir.join("Microsoft/Edge/Application/msedge.exe"));
            candidates.push(dir.join("Google/Chrome/Application/chrome.exe"));
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Why the PDF was not printed; each says what to do instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    #[error(
        "no Chromium, Chrome or Edge was found to print the PDF (set SQLEXAM_CHROMIUM): open the HTML report and print it"
    )]
    NoBrowser,
    #[error("{}: cannot name this file as a URL", .0.display())]
    NotAFile(PathBuf),
    #[error("cannot make a folder for the browser")]
    Profile(#[source] std::io::Error),
    #[error("{}: cannot start", .0.display())]
    Start(PathBuf, #[source] std::io::Error),
    #[error("{} did not print the PDF within a minute", .0.display())]
    TooSlow(PathBuf),
    #[error("{} could not print the PDF ({})", .0.display(), .1)]
    Failed(PathBuf, std::process::ExitStatus),
    #[error("{}: cannot keep the printed PDF", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
}

/// Prints the HTML file `html` to the PDF file `pdf` with a headless browser (at most a
/// minute).
pub fn print_pdf(html: &Path, pdf: &Path) -> Result<(), PdfError> {
    let browser = find_browser().ok_or(PdfError::NoBrowser)?;
    let html = std::path::absolute(html).map_err(|e| PdfError::Write(html.to_owned(), e))?;
    // A proper file URL: folder names with `#`, `%`, spaces or non-ASCII letters included.
    let url = url::Url::from_file_path(&html)
        .map_err(|()| PdfError::NotAFile(html.clone()))?
        .to_string();
    // A profile of its own: the browser must not touch (or wait for) the user's.
    let profile = tempfile::tempdir().map_err(PdfError::Profile)?;
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-pdf-header-footer",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| PdfError::Start(browser.clone(), e))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfError::TooSlow(browser));
            }
        }
    };
    let printed = std::fs::metadata(pdf).map(|m| m.len() > 0).unwrap_or(false);
    if status.success() && printed {
        Ok(())
    } else {
        Err(PdfError::Failed(browser, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_records_cannot_become_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{1b}[2Jb"), "a\u{fffd}[2Jb");
    }
}
