//! A venue relay's queue toward the central server, in the relay's own SQLite store: the
//! records held in chains are the queue; the central server's pinned key
//! (`relay_servers`), its checkpoints (`relay_checkpoints`) and the proof of each record
//! forwarded (`relay_receipts`) say how far it has gone. sqlexam-relay drives it as a sync
//! outbox; nothing here knows the network.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::protocol::{Upstream, UpstreamCheckpoint, UpstreamProof};
use sqlexam_core::record::SignedRecord;
use sqlexam_core::session::{HeldReceipts, StoredCheckpoint, StoredReceipt, SyncCounts};

use crate::store::{StoreError, StoreResult};

/// The relay's side of a server's SQLite store, forwarding to one central address.
pub struct RelayQueue {
    conn: Mutex<Connection>,
    /// The central server's address: a record counts as forwarded once the key pinned for
    /// it proved it (a proof from a server the relay was pointed at before does not count).
    url: String,
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::fatal("the relay's database failed").caused_by(e)
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// Records in a chain with no proof yet from the server pinned for the central address
/// (`?1`; every record, before the first contact).
const UNSENT: &str = "NOT EXISTS (SELECT 1 FROM relay_receipts x
    WHERE x.session = r.session AND x.seq = r.seq AND x.server = ?1)";

impl RelayQueue {
    /// Opens the relay's side of the SQLite store at `path` (the server has migrated it),
    /// forwarding to `url`.
    pub fn open(path: &Path, url: &str) -> StoreResult<RelayQueue> {
        // Never created here: the relay needs the server's own SQLite store.
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            Ok(conn)
        })
        .map_err(|e| {
            StoreError::fatal(format!(
                "{}: the relay keeps its queue in the server's SQLite store, and cannot open it",
                path.display()
            ))
            .caused_by(e)
        })?;
        Ok(RelayQueue {
            conn: Mutex::new(conn),
            url: url.to_owned(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key id pinned for the central address ("" before the first contact).
    fn target(&self) -> StoreResult<String> {
        Ok(self
            .pinned_server(&self.url)?
            .map(|k| k.key_id())
            .unwrap_or_default())
    }

    /// The key pinned for `url`, if any.
    pub fn pinned_server(&self, url: &str) -> StoreResult<Option<PublicKey>> {
        let hex: Option<String> = self
            .conn()
            .query_row(
                "SELECT public_key FROM relay_servers WHERE url = ?1",
                [url],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        hex.map(|h| {
            PublicKey::from_hex(&h).ok_or_else(|| {
                StoreError::fatal(format!("the key pinned for {url} is damaged: {h:?}"))
            })
        })
        .transpose()
    }

    /// Pins `key` for `url` (the first key stays).
    pub fn pin_server(&self, url: &str, key: &PublicKey) -> StoreResult<()> {
        let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO relay_servers (url, public_key, pinned_at) VALUES (?1, ?2, ?3)",
                params![url, key.to_hex(), now],
            )
            .map(drop)
            .map_err(err)
    }

    /// The newest checkpoint held of `server`'s log, as its signed note.
    pub fn newest_checkpoint(&self, server: &PublicKey) -> StoreResult<Option<(u64, String)>> {
        self.conn()
            .query_row(
                "SELECT size, note FROM relay_checkpoints WHERE server = ?1 ORDER BY size DESC LIMIT 1",
                [server.key_id()],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(err)
    }

    /// The bytes of `session`'s records `from..=to`, by seq.
    pub fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT seq, bytes FROM records WHERE session = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
            )
            .map_err(err)?;
        stmt.query_map(params![session, from as i64, to as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })
        .map_err(err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(err)
    }

    /// Stores a verified checkpoint and the proofs it gave, in one transaction; returns how
    /// many proofs were new.
    pub fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(err)?;
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
        .map_err(err)?;
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
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(new)
    }

    /// Each session with unforwarded records: (session, lowest seq, highest seq).
    pub fn unsent_ranges(&self) -> StoreResult<Vec<(String, u64, u64)>> {
        let target = self.target()?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.session, MIN(r.seq), MAX(r.seq) FROM records r WHERE {UNSENT}
                 GROUP BY r.session ORDER BY r.session"
            ))
            .map_err(err)?;
        stmt.query_map([&target], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        })
        .map_err(err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(err)
    }

    /// Every unforwarded record, each session's in seq order (the central server takes a
    /// chain from seq 1).
    pub fn unsent(&self) -> StoreResult<Vec<(String, SignedRecord)>> {
        let target = self.target()?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.session, r.bytes, r.signature FROM records r WHERE {UNSENT}
                 ORDER BY r.session, r.seq"
            ))
            .map_err(err)?;
        stmt.query_map([&target], |r| {
            Ok((
                r.get(0)?,
                SignedRecord {
                    bytes: r.get(1)?,
                    signature: r.get(2)?,
                },
            ))
        })
        .map_err(err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(err)
    }

    /// How many records wait, and when the central server last gave a receipt.
    pub fn sync_counts(&self) -> StoreResult<SyncCounts> {
        let target = self.target()?;
        let conn = self.conn();
        let unsent: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM records r WHERE {UNSENT}"),
                [&target],
                |r| r.get(0),
            )
            .map_err(err)?;
        let last: Option<i64> = conn
            .query_row(
                "SELECT MAX(received_wall_ms) FROM relay_checkpoints WHERE server = ?1",
                [&target],
                |r| r.get(0),
            )
            .map_err(err)?;
        Ok(SyncCounts {
            unsent: unsent as usize,
            last_receipt_wall_ms: last,
        })
    }
}

impl RelayQueue {
    /// What the central server proved of `session`: its URL and key, every checkpoint of it
    /// held (by size), the session's proofs. `None` before the relay pinned it.
    pub fn upstream(&self, session: &str) -> StoreResult<Option<Upstream>> {
        let key = self.pinned_server(&self.url)?;
        let Some(key) = key else {
            return Ok(None);
        };
        let (server, session) = (key.key_id(), session.to_owned());
        let conn = self.conn();
        let read = || -> rusqlite::Result<Upstream> {
            let checkpoints = conn
                .prepare_cached(
                    "SELECT size, note, consistency FROM relay_checkpoints WHERE server = ?1
                     ORDER BY size",
                )?
                .query_map([&server], |r| {
                    Ok(UpstreamCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        note: r.get(1)?,
                        consistency: serde_json::from_str(&r.get::<_, String>(2)?)
                            .unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let proofs = conn
                .prepare_cached(
                    "SELECT seq, leaf, size, proof FROM relay_receipts
                     WHERE server = ?1 AND session = ?2 ORDER BY seq",
                )?
                .query_map(params![server, session], |r| {
                    Ok(UpstreamProof {
                        seq: r.get::<_, i64>(0)? as u64,
                        leaf: r.get::<_, i64>(1)? as u64,
                        size: r.get::<_, i64>(2)? as u64,
                        proof: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Upstream {
                server: self.url.clone(),
                public_key: key.to_hex(),
                checkpoints,
                proofs,
            })
        };
        read().map(Some).map_err(|e| {
            StoreError::fatal("cannot read the central server's receipts").caused_by(e)
        })
    }
}

/// What a room's export reads from a relay's (or any SQLite server's) database.
pub struct Room {
    /// Every record held in a chain, by session and seq, as signed.
    pub signed: Vec<SignedRecord>,
    /// Every pack held: (hash, bytes).
    pub packs: Vec<(String, Vec<u8>)>,
    /// The central servers' keys, checkpoints and proofs the relay holds.
    pub receipts: HeldReceipts,
}

/// Reads a room from the database at `path`, read-only: the export changes nothing.
pub fn read_room(path: &Path) -> StoreResult<Room> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| {
            StoreError::fatal(format!("{}: cannot open it", path.display())).caused_by(e)
        })?;
    let read = || -> rusqlite::Result<Room> {
        let signed = conn
            .prepare("SELECT bytes, signature FROM records ORDER BY session, seq")?
            .query_map([], |r| {
                Ok(SignedRecord {
                    bytes: r.get(0)?,
                    signature: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let packs = conn
            .prepare("SELECT hash, bytes FROM packs")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
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
        Ok(Room {
            signed,
            packs,
            receipts: HeldReceipts {
                servers,
                checkpoints,
                receipts,
            },
        })
    };
    read()
        .map_err(|e| StoreError::fatal(format!("{}: cannot read it", path.display())).caused_by(e))
}
