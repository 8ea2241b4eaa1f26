//! The venue relay (`sqlexam serve --relay-to URL`): this server, on a proctor's laptop,
//! takes the room's records over the venue LAN like any server, and forwards them verbatim
//! to the central server whenever the internet is up (store and forward). It is a sync
//! client like a candidate's machine — `sqlexam_sync`'s passes and background task over
//! an [`Outbox`] of the records this server holds in its chains — so the central server's
//! receipts are checked as a device checks them: its key pinned at first contact, each
//! checkpoint consistent with the last one seen, each record's inclusion proof against the
//! record's own bytes. A record counts as forwarded only once that proof is stored.
//!
//! The relay runs on the SQLite store (a laptop's): its state lives in that database
//! (`relay_servers`, `relay_checkpoints`, `relay_receipts`), read and written on a
//! connection of its own, in a thread of its own.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::log::{Checkpoint, open_checkpoint};
use sqlexam_core::record::SignedRecord;
use sqlexam_core::session::{StoredCheckpoint, StoredReceipt, SyncCounts};
use sqlexam_sync::{Outbox, Server, SyncError, SyncStatus, Unsent};
use tokio::sync::watch;

/// Where the relay forwards to.
#[derive(Debug, Clone)]
pub struct RelayTo {
    /// The central server (`https://…`).
    pub url: String,
    /// A venue (or organizer) token of the central server.
    pub token: Option<String>,
}

/// The records this server holds in its chains, as an outbox toward the central server.
pub struct RelayOutbox {
    conn: Mutex<Connection>,
    /// The central server's address: a record counts as forwarded once the key pinned for
    /// it proved it (a proof from a server the relay was pointed at before does not count).
    url: String,
}

fn store(e: rusqlite::Error) -> SyncError {
    SyncError::Store(format!("the relay's database: {e}"))
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// Records in a chain with no proof yet from the server pinned for the central address
/// (`?1`; every record, before the first contact).
const UNSENT: &str = "NOT EXISTS (SELECT 1 FROM relay_receipts x
    WHERE x.session = r.session AND x.seq = r.seq AND x.server = ?1)";

impl RelayOutbox {
    /// Opens the relay's side of the SQLite store at `path` (the server has migrated it),
    /// forwarding to `url`.
    pub fn open(path: &Path, url: &str) -> Result<RelayOutbox, String> {
        // Never created here: the relay needs the server's own SQLite store.
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            format!(
                "{}: {e} (the relay keeps its queue in the server's SQLite store, not in PostgreSQL)",
                path.display()
            )
        })?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(RelayOutbox {
            conn: Mutex::new(conn),
            url: url.to_owned(),
        })
    }

    /// The key id pinned for the central address ("" before the first contact).
    fn target(&self) -> Result<String, SyncError> {
        Ok(self
            .pinned_server(&self.url)?
            .map(|k| k.key_id())
            .unwrap_or_default())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Outbox for RelayOutbox {
    fn pinned_server(&self, url: &str) -> Result<Option<PublicKey>, SyncError> {
        let hex: Option<String> = self
            .conn()
            .query_row(
                "SELECT public_key FROM relay_servers WHERE url = ?1",
                [url],
                |r| r.get(0),
            )
            .optional()
            .map_err(store)?;
        hex.map(|h| {
            PublicKey::from_hex(&h).ok_or_else(|| {
                SyncError::Store(format!("the key pinned for {url} is damaged: {h:?}"))
            })
        })
        .transpose()
    }

    fn pin_server(&self, url: &str, key: &PublicKey) -> Result<(), SyncError> {
        let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO relay_servers (url, public_key, pinned_at) VALUES (?1, ?2, ?3)",
                params![url, key.to_hex(), now],
            )
            .map(drop)
            .map_err(store)
    }

    fn newest_checkpoint(&self, server: &PublicKey) -> Result<Option<Checkpoint>, SyncError> {
        let row: Option<(i64, String)> = self
            .conn()
            .query_row(
                "SELECT size, note FROM relay_checkpoints WHERE server = ?1 ORDER BY size DESC LIMIT 1",
                [server.key_id()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(store)?;
        row.map(|(size, note)| {
            open_checkpoint(&note, server).map_err(|e| {
                SyncError::Store(format!(
                    "the stored checkpoint of size {size} no longer verifies: {e}"
                ))
            })
        })
        .transpose()
    }

    fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SyncError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT seq, bytes FROM records WHERE session = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
            )
            .map_err(store)?;
        stmt.query_map(params![session, from as i64, to as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })
        .map_err(store)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store)
    }

    fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SyncError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(store)?;
        tx.execute(
            "INSERT INTO relay_checkpoints (server, size, note, consistency, received_wall_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (server, size) DO UPDATE SET received_wall_ms = excluded.received_wall_ms",
            params![
                checkpoint.server,
                checkpoint.size as i64,
                checkpoint.note,
                to_json(&checkpoint.consistency),
                checkpoint.received_wall_ms
            ],
        )
        .map_err(store)?;
        let mut new = 0;
        for p in proofs {
            new += tx
                .execute(
                    "INSERT OR IGNORE INTO relay_receipts (session, seq, server, leaf, size, proof)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        p.session,
                        p.seq as i64,
                        p.server,
                        p.leaf as i64,
                        p.size as i64,
                        to_json(&p.proof)
                    ],
                )
                .map_err(store)?;
        }
        tx.commit().map_err(store)?;
        Ok(new)
    }

    fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SyncError> {
        let target = self.target()?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.session, MIN(r.seq), MAX(r.seq) FROM records r WHERE {UNSENT}
                 GROUP BY r.session ORDER BY r.session"
            ))
            .map_err(store)?;
        stmt.query_map([&target], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        })
        .map_err(store)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store)
    }

    fn outbox(&self) -> Result<Vec<Unsent>, SyncError> {
        let target = self.target()?;
        let conn = self.conn();
        // Each session's records in seq order: the central server takes a chain from seq 1.
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.session, r.bytes, r.signature FROM records r WHERE {UNSENT}
                 ORDER BY r.session, r.seq"
            ))
            .map_err(store)?;
        stmt.query_map([&target], |r| {
            Ok(Unsent {
                session: r.get(0)?,
                record: SignedRecord {
                    bytes: r.get(1)?,
                    signature: r.get(2)?,
                },
            })
        })
        .map_err(store)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store)
    }

    fn sync_counts(&self) -> Result<SyncCounts, SyncError> {
        let target = self.target()?;
        let conn = self.conn();
        let unsent: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM records r WHERE {UNSENT}"),
                [&target],
                |r| r.get(0),
            )
            .map_err(store)?;
        let last: Option<i64> = conn
            .query_row(
                "SELECT MAX(received_wall_ms) FROM relay_checkpoints WHERE server = ?1",
                [&target],
                |r| r.get(0),
            )
            .map_err(store)?;
        Ok(SyncCounts {
            unsent: unsent as usize,
            last_receipt_wall_ms: last,
        })
    }
}

/// A running relay: its task's status, and its outbox for counts as of now.
#[derive(Clone)]
pub struct Relay {
    status: watch::Receiver<SyncStatus>,
    outbox: std::sync::Arc<RelayOutbox>,
}

impl Relay {
    /// The task's status, with the backlog counted now (records the room sent since the
    /// task last looked are waiting too).
    pub fn status(&self) -> SyncStatus {
        let mut status = self.status.borrow().clone();
        if let Ok(counts) = self.outbox.sync_counts() {
            status.unsent = counts.unsent;
            status.last_synced_wall_ms = counts.last_receipt_wall_ms;
            if counts.unsent > 0 && status.state == sqlexam_sync::SyncState::Synced {
                status.state = sqlexam_sync::SyncState::Syncing;
            }
        }
        status
    }
}

/// The relay's background task, on a thread of its own (its storage calls block): forwards
/// until `stop` fires.
pub fn start(path: &Path, to: &RelayTo, mut stop: watch::Receiver<bool>) -> Result<Relay, String> {
    let outbox = std::sync::Arc::new(RelayOutbox::open(path, &to.url)?);
    let task_outbox = outbox.clone();
    let server =
        Server::parse(&to.url, to.token.as_deref()).map_err(|e| format!("--relay-to: {e}"))?;
    let (servers_tx, servers_rx) = watch::channel(Some(server));
    let (status_tx, status_rx) = watch::channel(SyncStatus {
        state: sqlexam_sync::SyncState::Syncing,
        unsent: 0,
        last_synced_wall_ms: None,
        server: Some(to.url.clone()),
        message: None,
        retry_in_ms: None,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the relay: {e}"))?;
    std::thread::Builder::new()
        .name("sqlexam-relay".into())
        .spawn(move || {
            runtime.block_on(async move {
                let forward = sqlexam_sync::run(task_outbox, servers_rx, status_tx);
                tokio::select! {
                    () = forward => {}
                    _ = stop.wait_for(|s| *s) => drop(servers_tx),
                }
            });
        })
        .map_err(|e| format!("cannot start the relay: {e}"))?;
    Ok(Relay {
        status: status_rx,
        outbox,
    })
}

/// The room's export from a relay's (or any SQLite server's) data folder, read-only: every
/// record the server holds in a chain, of the exam `pack` names (or of its only exam), with
/// the central server's receipts the relay holds, as one bundle (signed with the proctor
/// passphrase) beside the results and the report — what `sqlexam bundle create
/// --relay-data` writes.
pub fn room_export(
    data_dir: &Path,
    req: &sqlexam_export::machine::Request<'_>,
) -> Result<sqlexam_export::machine::Exported, String> {
    use sqlexam_core::record::{Expectations, verify_records};
    use sqlexam_core::session::HeldReceipts;
    use sqlexam_export::machine::{Gathered, choose_pack, export_gathered};

    let path = data_dir.join("server.sqlite");
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let e = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let signed: Vec<SignedRecord> = conn
        .prepare("SELECT bytes, signature FROM records ORDER BY session, seq")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(SignedRecord {
                    bytes: r.get(0)?,
                    signature: r.get(1)?,
                })
            })?
            .collect()
        })
        .map_err(e)?;
    // Each pack's proctor key, from the pack as the server holds it.
    let packs: Vec<(String, Vec<u8>)> = conn
        .prepare("SELECT hash, bytes FROM packs")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(e)?;
    let mut proctor = std::collections::BTreeMap::new();
    for (hash, bytes) in &packs {
        if let Ok((manifest, found)) = sqlexam_core::pack::signed_manifest(&bytes[..])
            && found == *hash
        {
            proctor.insert(hash.clone(), manifest.proctor);
        }
    }
    let expect = Expectations {
        device: None,
        proctor_keys: proctor
            .iter()
            .map(|(h, k)| (h.clone(), k.as_ref().and_then(|k| k.public())))
            .collect(),
    };
    let (records, findings) = verify_records(&signed, &expect);
    // A proctor action without a valid proctor signature (a candidate's forgery the relay
    // took and flagged) stays in the bundle as evidence, and is shown as unproven in the
    // results and report, never as a real extension; anything else that does not verify
    // stops the export.
    let mut unproven = Vec::new();
    let mut blocking = Vec::new();
    for f in &findings {
        match f {
            sqlexam_core::record::Finding::ProctorUnproven { session, seq, .. } => {
                unproven.push((session.clone(), *seq));
            }
            other => blocking.push(other.to_string()),
        }
    }
    if !blocking.is_empty() {
        return Err(format!(
            "the records held here do not verify: {}",
            blocking.join("; ")
        ));
    }
    let pack = choose_pack(&records, req.pack).map_err(|e| e.to_string())?;
    let key = match proctor.get(&pack.hash) {
        Some(Some(key)) => key.clone(),
        Some(None) => {
            return Err("this exam's pack allows no proctor, so no bundle can be signed".into());
        }
        None => {
            return Err(format!(
                "this server does not hold pack {} {} ({}): upload it (PUT /v1/exams/{}/pack) so the bundle can be signed",
                pack.id, pack.version, pack.hash, pack.id
            ));
        }
    };
    let held = (|| -> rusqlite::Result<HeldReceipts> {
        let servers = conn
            .prepare("SELECT url, public_key FROM relay_servers ORDER BY url")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let checkpoints = conn
            .prepare(
                "SELECT server, size, note, consistency, received_wall_ms FROM relay_checkpoints ORDER BY server, size",
            )?
            .query_map([], |r| {
                Ok(StoredCheckpoint {
                    server: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    note: r.get(2)?,
                    consistency: serde_json::from_str(&r.get::<_, String>(3)?)
                        .unwrap_or_default(),
                    received_wall_ms: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let receipts = conn
            .prepare("SELECT server, session, seq, leaf, size, proof FROM relay_receipts ORDER BY server, session, seq")?
            .query_map([], |r| {
                Ok(StoredReceipt {
                    server: r.get(0)?,
                    session: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    leaf: r.get::<_, i64>(3)? as u64,
                    size: r.get::<_, i64>(4)? as u64,
                    proof: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(HeldReceipts {
            servers,
            checkpoints,
            receipts,
        })
    })()
    .map_err(e)?;
    // Read, never made: this export changes nothing in the folder.
    let label = std::fs::read_to_string(data_dir.join("server.key"))
        .ok()
        .and_then(|pem| sqlexam_core::crypto::SigningKey::from_pem(&pem).ok())
        .map_or_else(|| "relay".into(), |k| k.public().key_id());
    export_gathered(
        Gathered {
            signed,
            records,
            receipts: held,
            pack,
            proctor: key,
            label,
            source: "relay",
            unproven,
        },
        req,
    )
    .map_err(|e| e.to_string())
}
