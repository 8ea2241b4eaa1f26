//! A proctor's export of one machine (`sqlexam bundle create`, the app's proctor panel):
//! the signed bundle for the server and the results for people — CSV, XLSX, JSON and the
//! session report (HTML, and PDF when asked and a browser can print it) — written into one
//! folder (a USB stick). The store is read without changing it, so this works while
//! the app has it open.
//!
//! File names are fixed by exam, version and device (`<exam>-<version>-<device>`), and each
//! file is written through a temporary sibling, flushed and renamed: exporting again
//! replaces the files instead of adding copies, and a stick pulled out mid-write never holds
//! half a file under the real name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sqlexam_core::ErrorCode;
use sqlexam_core::fsutil::write_atomic;
use sqlexam_core::pack::ProctorKey;
use sqlexam_core::record::{PackRef, Record, SignedRecord, verify_records};
use sqlexam_core::session::{
    HeldReceipts, SessionError, kept_proctor, read_store_receipts, read_store_records,
    store_expectations, store_path,
};

use crate::bundle::{self, Contents};
use crate::report::{PdfError, ReportFacts, print_pdf, report_html};
use crate::results::{Results, from_records};
use crate::table::{results_csv, results_xlsx};
use crate::{ExportError, Lang};

/// What to export.
pub struct Request<'a> {
    /// The engine directory (the store and its pack copies).
    pub dir: &'a Path,
    /// Which pack: its id or hash. `None`: the one pack the machine holds sessions of.
    pub pack: Option<&'a str>,
    pub passphrase: &'a str,
    pub venue: &'a str,
    pub lang: Lang,
    /// The folder to write into (created if missing).
    pub out: &'a Path,
    /// When (RFC 3339), as the manifest and the results say.
    pub now: &'a str,
    /// Also print the session report to PDF (with a headless browser, if one is found).
    pub pdf: bool,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    pub pack: PackRef,
    pub records: usize,
    pub sessions: usize,
    /// The bundle's fingerprint (SHA-256 of its signed manifest).
    pub fingerprint: String,
    pub results: Results,
    /// Why the PDF report was not printed, when it was asked for and could not be.
    pub pdf_error: Option<String>,
}

/// Why a machine could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error("{0}")]
    Session(#[from] SessionError),
    #[error("{0}")]
    Nothing(String),
    #[error("{0}")]
    SeveralPacks(String),
    #[error("{0}")]
    PackCopyMissing(String),
    #[error("{0}")]
    Export(#[from] ExportError),
    #[error("{0}")]
    Bundle(#[from] bundle::BundleError),
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
}

impl ErrorCode for MachineError {
    fn code(&self) -> &'static str {
        match self {
            MachineError::Session(e) => e.code(),
            MachineError::Nothing(_) => "nothing_to_export",
            MachineError::SeveralPacks(_) => "several_packs",
            MachineError::PackCopyMissing(_) => "pack_copy_missing",
            MachineError::Export(e) => e.code(),
            MachineError::Bundle(e) => e.code(),
            MachineError::Write { .. } => "write_failed",
        }
    }
}

/// The pack to export: the one `wanted` names (id or hash), or the only one there is.
pub fn choose_pack(records: &[Record], wanted: Option<&str>) -> Result<PackRef, MachineError> {
    let packs: BTreeSet<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r.pack.id.clone(),
                r.pack.version.clone(),
                r.pack.hash.clone(),
            )
        })
        .collect();
    let matching: Vec<_> = packs
        .iter()
        .filter(|(id, _, hash)| wanted.is_none_or(|w| w == id || w == hash))
        .collect();
    match matching.as_slice() {
        [(id, version, hash)] => Ok(PackRef {
            id: id.clone(),
            version: version.clone(),
            hash: hash.clone(),
        }),
        [] if packs.is_empty() => Err(MachineError::Nothing(
            "no exam records are held here yet: nothing to export".into(),
        )),
        [] => Err(MachineError::Nothing(format!(
            "no records of exam {:?} are held here; there are {}",
            wanted.unwrap_or_default(),
            list(&packs)
        ))),
        _ => Err(MachineError::SeveralPacks(format!(
            "sessions of several packs are held here ({}): choose one by its hash",
            list(&packs)
        ))),
    }
}

fn list(packs: &BTreeSet<(String, String, String)>) -> String {
    packs
        .iter()
        .map(|(id, v, hash)| format!("{id} {v} ({hash})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The proctor key of `pack`, as the machine's copy of the pack names it (locked: the
/// passphrase unlocks it when the bundle is signed).
fn proctor_key(dir: &Path, pack: &PackRef) -> Result<ProctorKey, MachineError> {
    match kept_proctor(dir, &pack.hash) {
        Some(Some(key)) => Ok(key),
        Some(None) => Err(SessionError::NoProctor.into()),
        None => Err(MachineError::PackCopyMissing(format!(
            "the copy of pack {} {} this machine kept is missing or is another pack: the bundle cannot be signed",
            pack.id, pack.version
        ))),
    }
}

/// Exports the machine's records of one pack: bundle, CSV, XLSX and JSON.
pub fn export(req: &Request<'_>) -> Result<Exported, MachineError> {
    let store = store_path(req.dir);
    if !store.exists() {
        return Err(MachineError::Nothing(format!(
            "{}: there is no session store here: nothing to export",
            req.dir.display()
        )));
    }
    let signed = read_store_records(&store)?;
    // The records leave as they are, so they must verify as they are: a damaged or edited
    // store is refused, not exported.
    let expect = store_expectations(req.dir, &signed, None);
    let (records, findings) = verify_records(&signed, &expect);
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
        return Err(SessionError::Tampered(list.join("; ")).into());
    }
    let pack = choose_pack(&records, req.pack)?;
    let key = proctor_key(req.dir, &pack)?;
    let receipts = read_store_receipts(&store)?;
    let log_alerts = sqlexam_core::session::read_log_alerts(&store)?;
    let device = records
        .first()
        .map(|r| r.device.clone())
        .unwrap_or_default();
    export_gathered(
        Gathered {
            signed,
            records,
            receipts,
            pack,
            proctor: key,
            label: device,
            source: "device",
            unproven: Vec::new(),
            log_alerts,
        },
        req,
    )
}

/// What an export is made of, however it was gathered: a machine's store, or a relay's
/// (the room's) records.
pub struct Gathered {
    /// Every record at hand, as stored (only the pack's are taken).
    pub signed: Vec<SignedRecord>,
    /// The same records, verified.
    pub records: Vec<Record>,
    pub receipts: HeldReceipts,
    pub pack: PackRef,
    /// The pack's proctor key, unlocked here with the passphrase.
    pub proctor: ProctorKey,
    /// Names the files beside the exam and version (a device's or a relay's key id).
    pub label: String,
    /// Where the records were gathered: `device` or `relay` (the results' `source`).
    pub source: &'static str,
    /// `(session, seq)` of proctor actions whose proctor signature does not hold: kept as
    /// evidence, shown as `proctor_unproven` incidents, never as what they claim.
    pub unproven: Vec<(String, u64)>,
    /// Each time a server showed this machine a log contradicting its checkpoints
    /// `(server key id, wall ms, message)`: shown as `log_contradiction` incidents.
    pub log_alerts: Vec<(String, i64, String)>,
}

/// Writes the bundle, the results and the report of `g` into `req.out` (`req.dir` and
/// `req.pack` are not used: `g` is already gathered).
pub fn export_gathered(g: Gathered, req: &Request<'_>) -> Result<Exported, MachineError> {
    let Gathered {
        signed,
        records,
        receipts,
        pack,
        proctor: key,
        label,
        source,
        unproven,
        log_alerts,
    } = g;
    let public = key
        .public()
        .ok_or_else(|| MachineError::PackCopyMissing("the pack's proctor key is damaged".into()))?;
    let signer = key
        .unlock(req.passphrase)
        .ok_or(SessionError::WrongPassphrase)?;
    let bytes = bundle::create(
        &Contents {
            records: &signed,
            receipts: &receipts,
            pack: &pack,
            venue: req.venue,
            created_at: req.now,
        },
        &signer,
        &public,
    )?;
    let parsed = bundle::parse(&bytes)?;
    let mine: Vec<Record> = records
        .into_iter()
        .filter(|r| r.pack.hash == pack.hash)
        .collect();
    let sessions = mine
        .iter()
        .map(|r| r.session.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let mut results = from_records(&mine, req.venue, req.now)
        .pop()
        .ok_or_else(|| MachineError::Nothing("no results to export".into()))?;
    results.source = source.into();
    for c in &mut results.candidates {
        for i in &mut c.incidents {
            if unproven.contains(&(i.session.clone(), i.seq)) {
                i.detail = format!("{} {}", i.kind, i.detail).trim().to_owned();
                i.kind = "proctor_unproven".into();
            }
        }
        // A server that showed this machine another history: said beside every session.
        for session in &c.sessions {
            for (server, _, message) in &log_alerts {
                c.incidents.push(crate::results::Incident {
                    session: session.clone(),
                    seq: 0,
                    kind: "log_contradiction".into(),
                    elapsed_ms: None,
                    detail: format!("server {server}: {message}"),
                });
            }
        }
    }

    let base = file_base(&pack, &label);
    let json =
        serde_json::to_vec_pretty(&results).map_err(|e| ExportError::Invalid(e.to_string()))?;
    let files = [
        (format!("{base}.{}", bundle::EXTENSION), bytes),
        (
            format!("{base}-results.csv"),
            results_csv(&results, req.lang).into_bytes(),
        ),
        (
            format!("{base}-results.xlsx"),
            results_xlsx(&results, req.lang)?,
        ),
        (format!("{base}-results.json"), json),
        (
            format!("{base}-report.html"),
            report_html(
                &results,
                &ReportFacts {
                    venue: req.venue,
                    fingerprints: std::slice::from_ref(&parsed.fingerprint()),
                },
                req.lang,
            )
            .into_bytes(),
        ),
    ];
    std::fs::create_dir_all(req.out).map_err(|e| MachineError::Write {
        path: req.out.to_owned(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = req.out.join(name);
        write_atomic(&path, &bytes, false).map_err(|e| MachineError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
        written.push(path);
    }
    let mut pdf_error = None;
    if req.pdf {
        let html = req.out.join(format!("{base}-report.html"));
        let pdf = req.out.join(format!("{base}-report.pdf"));
        // Printed beside, then renamed: never half a PDF, nor an old one beside new results.
        let printing = req.out.join(format!("{base}-report.pdf.tmp"));
        let synced = |p: &std::path::Path| std::fs::File::open(p).and_then(|f| f.sync_all());
        match print_pdf(&html, &printing).and_then(|()| {
            synced(&printing)
                .and_then(|()| std::fs::rename(&printing, &pdf))
                .map_err(|e| PdfError::Write(pdf.clone(), e))
        }) {
            Ok(()) => written.push(pdf),
            Err(e) => {
                let _ = std::fs::remove_file(&printing);
                let _ = std::fs::remove_file(&pdf);
                pdf_error = Some(sqlexam_core::error_chain(&e));
            }
        }
    }
    Ok(Exported {
        files: written,
        pack,
        records: parsed.records.len(),
        sessions,
        fingerprint: parsed.fingerprint(),
        results,
        pdf_error,
    })
}

/// `<exam>-<version>-<device key id>`, with anything a file system might refuse replaced.
fn file_base(pack: &PackRef, device: &str) -> String {
    let safe = crate::safe_file_name;
    format!(
        "{}-{}-{}",
        safe(&pack.id),
        safe(&pack.version),
        safe(device)
    )
}
