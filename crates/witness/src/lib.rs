//! A witness of sqlexam servers' record logs, after c2sp.org/tlog-witness: a server sends
//! each new checkpoint of its log with the consistency proof from the last one this witness
//! cosigned (`POST /add-checkpoint`); the witness checks the log's signature (only logs
//! whose keys it was given), the size the sender thinks it holds, the proof, keeps the new
//! checkpoint (SQLite, on disk before answering) and answers with its cosignature
//! (`cosignature/v1`, sqlexam_core::cosign). It never cosigns a checkpoint that does not
//! extend one it cosigned — a log cut, restored from an older backup, or rewritten — and
//! keeps each such offer as a conflict (`GET /v1/witness`, and its standard error).
//! Run it somewhere the server's operator does not control: `sqlexam witness`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sqlexam_core::cosign::{AddCheckpoint, cosign, witness_name};
use sqlexam_core::crypto::{PublicKey, SigningKey};
use sqlexam_core::tlog::{Checkpoint, check_consistency, decode_proof, open_checkpoint, origin};

/// The largest request body taken (a checkpoint and a proof are well under it).
const MAX_BODY: usize = 64 << 10;

/// Why a checkpoint is not cosigned; each is its c2sp.org/tlog-witness status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the request is malformed: {0}")]
    Malformed(String),
    #[error("this witness does not witness the log {0:?}")]
    UnknownLog(String),
    #[error("the checkpoint is not signed by its log's key: {0}")]
    Unsigned(String),
    /// The sender's `old` is not the size this witness last cosigned: send again from it.
    #[error("this witness last cosigned a checkpoint of {held} records of this log")]
    Conflict { held: u64 },
    #[error("the consistency proof does not hold: {0}")]
    BadProof(String),
    #[error("the witness cannot keep what it cosigns: {0}")]
    Store(String),
}

impl Refused {
    fn status(&self) -> StatusCode {
        match self {
            Refused::Malformed(_) => StatusCode::BAD_REQUEST,
            Refused::UnknownLog(_) => StatusCode::NOT_FOUND,
            Refused::Unsigned(_) => StatusCode::FORBIDDEN,
            Refused::Conflict { .. } => StatusCode::CONFLICT,
            Refused::BadProof(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refused::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            // The size, as c2sp.org/tlog-witness says, so the sender can send again from it.
            Refused::Conflict { held } => (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{held}\n"),
            )
                .into_response(),
            other => (other.status(), format!("{other}\n")).into_response(),
        }
    }
}

/// A checkpoint offered that contradicts one cosigned: the log went back or changed.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub origin: String,
    pub offered_size: u64,
    pub held_size: u64,
    pub detail: String,
    pub at: String,
}

/// A log as the witness holds it.
#[derive(Debug, Clone, Serialize)]
pub struct LogState {
    pub origin: String,
    /// The size of the last checkpoint cosigned (0: none yet).
    pub size: u64,
    pub cosigned_at: Option<String>,
}

/// `GET /v1/witness`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The witness's key name and raw public key (hex): what an exam lists to require it.
    pub name: String,
    pub public_key: String,
    pub logs: Vec<LogState>,
    pub conflicts: Vec<Conflict>,
}

/// The witness: its key, the logs it witnesses, what it cosigned.
pub struct Witness {
    key: SigningKey,
    logs: BTreeMap<String, PublicKey>,
    db: Mutex<Connection>,
}

/// Why a witness cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    Key(#[from] sqlexam_server::ServerError),
    #[error("{}: cannot open the witness's database", path.display())]
    Open {
        path: std::path::PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the witness stopped")]
    Serve(#[source] std::io::Error),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    note TEXT NOT NULL,
    cosigned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    offered_size INTEGER NOT NULL,
    held_size INTEGER NOT NULL,
    detail TEXT NOT NULL,
    at TEXT NOT NULL
);";

fn now() -> String {
    sqlexam_core::encoding::format_time(time_now())
}

fn time_now() -> sqlexam_core::pack::OffsetDateTime {
    sqlexam_core::pack::OffsetDateTime::now_utc()
}

impl Witness {
    /// Opens the witness kept in `data_dir` (its key `witness.key` and `witness.sqlite`,
    /// made on first start), witnessing the logs signed by `log_keys`.
    pub fn open(data_dir: &Path, log_keys: &[PublicKey]) -> Result<Witness, WitnessError> {
        let key = sqlexam_server::private_key(data_dir, "witness.key")?;
        let path = data_dir.join("witness.sqlite");
        let open = || -> rusqlite::Result<Connection> {
            let c = Connection::open(&path)?;
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "synchronous", "FULL")?;
            c.execute_batch(SCHEMA)?;
            Ok(c)
        };
        let db = open().map_err(|source| WitnessError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Witness {
            key,
            logs: log_keys.iter().map(|k| (origin(k), *k)).collect(),
            db: Mutex::new(db),
        })
    }

    pub fn public(&self) -> PublicKey {
        self.key.public()
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes an `add-checkpoint` request body; the cosignature line, or why not.
    pub fn add_checkpoint(&self, body: &str) -> Result<String, Refused> {
        let request = AddCheckpoint::parse(body).map_err(Refused::Malformed)?;
        let log_origin = request
            .checkpoint
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let log_key = self
            .logs
            .get(&log_origin)
            .ok_or_else(|| Refused::UnknownLog(log_origin.clone()))?;
        let new = open_checkpoint(&request.checkpoint, log_key)
            .map_err(|e| Refused::Unsigned(e.to_string()))?;
        let store = |e: rusqlite::Error| Refused::Store(e.to_string());
        let mut db = self.db();
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(store)?;
        let held: Option<(u64, String)> = tx
            .query_row(
                "SELECT size, note FROM logs WHERE origin = ?1",
                [&log_origin],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(store)?;
        let held: Option<Checkpoint> = match held {
            Some((_, note)) => {
                Some(open_checkpoint(&note, log_key).map_err(|e| Refused::Store(e.to_string()))?)
            }
            None => None,
        };
        let held_size = held.as_ref().map_or(0, |c| c.size);
        // A checkpoint that does not extend the one cosigned is a conflict to keep, whatever
        // size the sender thought this witness holds.
        let contradiction = match &held {
            Some(h) if new.size < h.size => Some(format!(
                "a checkpoint of {} records, smaller than the {} cosigned: the log went back (restored from an older backup?)",
                new.size, h.size
            )),
            Some(h) if new.size == h.size && new.root != h.root => Some(format!(
                "a checkpoint of {} records with another root than the one cosigned: the log was rewritten",
                new.size
            )),
            _ => None,
        };
        // Kept, committed and said on standard error, before the refusal.
        let keep = |tx: rusqlite::Transaction<'_>, detail: &str| -> Result<(), Refused> {
            tx.execute(
                "INSERT INTO conflicts (origin, offered_size, held_size, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![log_origin, new.size as i64, held_size as i64, detail, now()],
            )
            .map_err(store)?;
            tx.commit().map_err(store)?;
            eprintln!("!!! witness: log {log_origin}: {detail}");
            Ok(())
        };
        if let Some(detail) = contradiction {
            keep(tx, &detail)?;
            return Err(Refused::Conflict { held: held_size });
        }
        if request.old != held_size {
            return Err(Refused::Conflict { held: held_size });
        }
        if let Some(h) = &held {
            let proof =
                decode_proof(&request.proof).map_err(|e| Refused::BadProof(e.to_string()))?;
            if let Err(e) = check_consistency(h, &new, &proof) {
                let detail = format!(
                    "a checkpoint of {} records whose consistency proof from the {} cosigned does not hold: {e}",
                    new.size, h.size
                );
                keep(tx, &detail)?;
                return Err(Refused::BadProof(e.to_string()));
            }
        }
        tx.execute(
            "INSERT INTO logs (origin, size, note, cosigned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, note = excluded.note,
                cosigned_at = excluded.cosigned_at",
            params![log_origin, new.size as i64, request.checkpoint, now()],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        let time = time_now().unix_timestamp().max(0) as u64;
        cosign(&request.checkpoint, &self.key, time).map_err(|e| Refused::Malformed(e.to_string()))
    }

    /// What the witness holds and the conflicts it saw.
    pub fn status(&self) -> Result<Status, Refused> {
        let store = |e: rusqlite::Error| Refused::Store(e.to_string());
        let db = self.db();
        let mut held: BTreeMap<String, LogState> = self
            .logs
            .keys()
            .map(|o| {
                (
                    o.clone(),
                    LogState {
                        origin: o.clone(),
                        size: 0,
                        cosigned_at: None,
                    },
                )
            })
            .collect();
        let mut stmt = db
            .prepare("SELECT origin, size, cosigned_at FROM logs")
            .map_err(store)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(LogState {
                    origin: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    cosigned_at: r.get(2)?,
                })
            })
            .map_err(store)?;
        for row in rows {
            let row = row.map_err(store)?;
            held.insert(row.origin.clone(), row);
        }
        let mut stmt = db
            .prepare(
                "SELECT origin, offered_size, held_size, detail, at FROM conflicts ORDER BY id",
            )
            .map_err(store)?;
        let conflicts = stmt
            .query_map([], |r| {
                Ok(Conflict {
                    origin: r.get(0)?,
                    offered_size: r.get::<_, i64>(1)? as u64,
                    held_size: r.get::<_, i64>(2)? as u64,
                    detail: r.get(3)?,
                    at: r.get(4)?,
                })
            })
            .map_err(store)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store)?;
        Ok(Status {
            name: witness_name(&self.key.public()),
            public_key: self.key.public().to_hex(),
            logs: held.into_values().collect(),
            conflicts,
        })
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    if body.len() > MAX_BODY {
        return Refused::Malformed("the request is too large".into()).into_response();
    }
    let outcome = tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await;
    match outcome {
        Ok(Ok(line)) => line.into_response(),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => Refused::Store(e.to_string()).into_response(),
    }
}

async fn status(State(w): State<Arc<Witness>>) -> Response {
    match w.status() {
        Ok(s) => axum::Json(s).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The witness's API: `POST /add-checkpoint` (c2sp.org/tlog-witness) and `GET /v1/witness`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/v1/witness", get(status))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

/// Serves `witness` on `listener` until `shutdown`.
pub async fn launch(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WitnessError> {
    sqlexam_server::http::listen::serve(listener, router(witness), shutdown)
        .await
        .map_err(WitnessError::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlexam_core::tlog::{Hash, sign_checkpoint};

    fn body(old: u64, proof: Vec<String>, checkpoint: String) -> String {
        AddCheckpoint {
            old,
            proof,
            checkpoint,
        }
        .to_body()
    }

    #[test]
    fn a_smaller_or_other_checkpoint_than_the_one_cosigned_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = SigningKey::generate().unwrap();
        let w = Witness::open(dir.path(), &[log.public()]).unwrap();
        let root = Hash([1; 32]);
        // First contact: from 0, no proof needed.
        let line = w
            .add_checkpoint(&body(0, vec![], sign_checkpoint(&log, 1, root)))
            .unwrap();
        assert!(line.starts_with("— sqlexam/witness/"), "{line}");
        // A sender that thinks the witness holds another size is told the size it holds.
        assert_eq!(
            w.add_checkpoint(&body(0, vec![], sign_checkpoint(&log, 1, root))),
            Err(Refused::Conflict { held: 1 })
        );
        // The same checkpoint again is cosigned again.
        assert!(
            w.add_checkpoint(&body(1, vec![], sign_checkpoint(&log, 1, root)))
                .is_ok()
        );
        // Another root at that size, or a smaller log: refused, and kept as a conflict.
        assert_eq!(
            w.add_checkpoint(&body(1, vec![], sign_checkpoint(&log, 1, Hash([2; 32])))),
            Err(Refused::Conflict { held: 1 })
        );
        assert_eq!(
            w.add_checkpoint(&body(1, vec![], sign_checkpoint(&log, 0, Hash([0; 32])))),
            Err(Refused::Conflict { held: 1 })
        );
        let s = w.status().unwrap();
        assert_eq!(s.logs[0].size, 1);
        assert_eq!(s.conflicts.len(), 2, "{:?}", s.conflicts);
        assert!(
            s.conflicts[1]
                .detail
                .contains("smaller than the 1 cosigned")
        );
        // A log it was not given, and a checkpoint not signed by the log's key.
        let stranger = SigningKey::generate().unwrap();
        assert!(matches!(
            w.add_checkpoint(&body(0, vec![], sign_checkpoint(&stranger, 1, root))),
            Err(Refused::UnknownLog(_))
        ));
        let forged = sign_checkpoint(&stranger, 2, root)
            .replace(&origin(&stranger.public()), &origin(&log.public()));
        assert!(matches!(
            w.add_checkpoint(&body(1, vec![], forged)),
            Err(Refused::Unsigned(_))
        ));
        assert!(matches!(
            w.add_checkpoint("old 1\n"),
            Err(Refused::Malformed(_))
        ));
    }
}
