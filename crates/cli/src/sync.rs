//! `sqlexam session sync`, `sqlexam pack fetch` and `sqlexam receipt verify`: the sync
//! client from the command line (docs/sync.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::session::{store_path, verify_store_receipts};
use sqlexam_sync::{Client, Server, SyncState, SyncStatus, settle};

use crate::BadInput;
use crate::home::Home;
use crate::session::open_engine;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

pub(crate) fn client(url: &str, token: Option<&str>) -> anyhow::Result<Client> {
    let server = Server::parse(url, token).map_err(|e| BadInput(e.to_string()))?;
    Client::new(server).map_err(|e| anyhow::anyhow!(e))
}

fn describe(s: &SyncStatus) -> String {
    match s.state {
        SyncState::Syncing => format!("syncing: {} records to send", s.unsent),
        SyncState::Offline => format!(
            "waiting {:.1} s: {}",
            s.retry_in_ms.unwrap_or(0) as f64 / 1000.0,
            s.message.as_deref().unwrap_or("")
        ),
        SyncState::Synced => "all synced".into(),
        SyncState::Off | SyncState::Refused => s.message.clone().unwrap_or_default(),
    }
}

/// Sends the store's unsent records to `url` until all are proven held, or `timeout`.
pub fn session_sync(
    home: &Home,
    dir: &Path,
    url: &str,
    token: Option<&str>,
    timeout: Duration,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let client = client(url, token)?;
    let engine = open_engine(home, dir)?;
    let before = engine.sync_counts()?.unsent;
    let result = runtime()?.block_on(settle(
        &engine,
        &client,
        Instant::now() + timeout,
        &|s: &SyncStatus| {
            if !json {
                say!("{}", describe(s));
            }
        },
    ));
    let after = engine.sync_counts()?;
    let (ok, error) = match &result {
        Ok(_) => (true, None),
        Err(e) => (false, Some(e)),
    };
    if json {
        say!(
            "{}",
            serde_json::json!({
                "ok": ok,
                "server": client.server().url,
                "synced": before.saturating_sub(after.unsent),
                "unsent": after.unsent,
                "last_synced_ms": after.last_receipt_wall_ms,
                "code": error.map(sqlexam_core::ErrorCode::code),
                "error": error.map(|e| sqlexam_core::error_chain(e)),
            })
        );
    } else if let Some(e) = error {
        say!(
            "NOT SYNCED: {}\n{} of {before} records now held by the server; {} still to send.",
            sqlexam_core::error_chain(e),
            before.saturating_sub(after.unsent),
            after.unsent
        );
    } else {
        say!(
            "all synced: {before} records now proven held by {} (receipts kept in the store).",
            client.server().url
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Downloads an exam's pack and verifies it as a pack file is verified; only a pack that
/// verifies is written to `out`.
pub fn pack_fetch(
    home: &Home,
    url: &str,
    token: Option<&str>,
    exam: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let client = client(url, token)?;
    let out: PathBuf = out.map_or_else(|| PathBuf::from(format!("{exam}.sqlexam")), Path::to_owned);
    let bytes = match runtime()?.block_on(client.pack(exam)) {
        Ok(bytes) => bytes,
        Err(e) => {
            say!("NOT FETCHED: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    // Verified from a file beside the destination, renamed into place only once it passed.
    let partial = out.with_extension("sqlexam.partial");
    sqlexam_core::fsutil::write_atomic(&partial, &bytes, false)
        .with_context(|| format!("{}: cannot write", partial.display()))?;
    match crate::pack::verify_file(home, &partial, None) {
        Ok(verified) if verified.manifest.id != exam => {
            let _ = std::fs::remove_file(&partial);
            say!(
                "REFUSED: the server sent the pack of exam {:?}, not {exam:?}",
                verified.manifest.id
            );
            Ok(ExitCode::from(1))
        }
        Ok(verified) => {
            std::fs::rename(&partial, &out)
                .with_context(|| format!("{}: cannot write", out.display()))?;
            let info = verified.info();
            say!(
                "fetched {} {} ({} bytes, {}) to {}: verified",
                info.id,
                info.version,
                bytes.len(),
                if info.sealed {
                    "sealed until its start code"
                } else {
                    "not sealed"
                },
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            say!("REFUSED: the pack from {url} does not verify: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}

pub(crate) fn read_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the server key", path.display()))?;
    PublicKey::from_pem(&text)
        .or_else(|e| PublicKey::from_hex(text.trim()).ok_or(e))
        .map_err(|e| {
            anyhow::Error::new(BadInput(format!(
                "{}: not a server public key (PEM or hex): {}",
                path.display(),
                e.0
            )))
        })
}

/// Checks every receipt in a store offline against the given server keys.
/// Asks the server at `url` for its log's checkpoint now and checks that it extends the
/// newest checkpoint `store` holds of that log (a log only grows: a smaller or different
/// one means the server dropped or rewrote history, e.g. restored from an older backup).
/// Returns what was found, one sentence, and whether it holds.
fn check_server(
    store: &Path,
    url: &str,
    token: Option<&str>,
    keys: &[PublicKey],
) -> anyhow::Result<(String, bool)> {
    use sqlexam_core::tlog::{check_consistency, decode_proof, open_checkpoint};
    let client = client(url, token)?;
    let held = sqlexam_core::session::read_store_receipts(store)?;
    let rt = runtime()?;
    let unreachable = |e: sqlexam_sync::SyncError| {
        (
            format!(
                "cannot ask {url} about its log: {}",
                sqlexam_core::error_chain(&e)
            ),
            false,
        )
    };
    let head = match rt.block_on(client.checkpoint()) {
        Ok(head) => head,
        Err(e) => return Ok(unreachable(e)),
    };
    let Some((key, now)) = keys
        .iter()
        .find_map(|k| open_checkpoint(&head.checkpoint, k).ok().map(|c| (k, c)))
    else {
        return Ok((
            format!("{url} signs its log with none of the keys given (--server-key)"),
            false,
        ));
    };
    let newest = held
        .checkpoints
        .iter()
        .filter(|c| c.server == key.key_id())
        .max_by_key(|c| c.size)
        .and_then(|c| open_checkpoint(&c.note, key).ok());
    let Some(old) = newest else {
        return Ok((
            format!(
                "{url}: its log holds {} records; this store holds no checkpoint of it to compare",
                now.size
            ),
            true,
        ));
    };
    let proof = if old.size > 0 && old.size < now.size {
        match rt.block_on(client.consistency(old.size, now.size)) {
            Ok(c) => c.proof,
            Err(e) => return Ok(unreachable(e)),
        }
    } else {
        Vec::new()
    };
    let consistent = decode_proof(&proof)
        .and_then(|p| check_consistency(&old, &now, &p))
        .is_ok()
        && old.size <= now.size;
    Ok(if consistent {
        (
            format!(
                "{url}: its log of {} records extends the checkpoint of {} records this store holds",
                now.size, old.size
            ),
            true,
        )
    } else {
        (
            format!(
                "{url} NO LONGER HOLDS THE HISTORY IT PROVED: its log now has {} records (root {}), which does not extend the checkpoint of {} records (root {}) it signed for this machine — restored from an older backup, or rewritten",
                now.size,
                sqlexam_core::encoding::hex(&now.root.0),
                old.size,
                sqlexam_core::encoding::hex(&old.root.0)
            ),
            false,
        )
    })
}

pub fn receipt_verify(
    path: &Path,
    keys: &[PathBuf],
    server: Option<(&str, Option<&str>)>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let keys = keys
        .iter()
        .map(|k| read_key(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = if path.is_dir() {
        store_path(path)
    } else {
        path.to_owned()
    };
    let mut report = verify_store_receipts(&store, &keys)?;
    let mut online = None;
    if let Some((url, token)) = server {
        let (said, holds) = check_server(&store, url, token, &keys)?;
        if !holds {
            report.problems.push(said.clone());
        }
        online = Some(said);
    }
    if json {
        say!(
            "{}",
            serde_json::json!({
                "ok": report.ok(),
                "records": report.records,
                "proven": report.proven,
                "checkpoints": report.checkpoints,
                "synced_unproven": report.synced_unproven,
                "server": online,
                "problems": report.problems,
            })
        );
    } else {
        if let Some(said) = online.as_deref().filter(|_| report.ok()) {
            say!("{said}");
        }
        for (server, n) in &report.checkpoints {
            say!("server {server}: {n} checkpoints, signed and consistent with each other");
        }
        say!(
            "{} of {} records proven held by a server (inclusion proofs against their own bytes)",
            report.proven,
            report.records
        );
        for p in &report.problems {
            say!("PROBLEM: {p}");
        }
        say!(
            "{}",
            if report.ok() {
                "receipts verify"
            } else {
                "RECEIPTS DO NOT VERIFY"
            }
        );
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
