//! Opening the SQLite database: its migrations (`migrations/`, run by sqlexam-core's one
//! runner) and, for a data folder of an earlier sqlexam, the log leaves of records stored
//! before the log existed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, TransactionBehavior, params};

use super::tlog::append_to_log;
use super::{SqliteStore, connect, err};
use crate::store::{StoreError, StoreResult};

/// In order; a shipped migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001-chains-jobs-packs.sql"),
    include_str!("migrations/0002-record-log.sql"),
    include_str!("migrations/0003-session-venue.sql"),
    include_str!("migrations/0004-relay.sql"),
    include_str!("migrations/0005-token-revocation.sql"),
    include_str!("migrations/0006-leaf-index.sql"),
    include_str!("migrations/0007-proven-results.sql"),
    include_str!("migrations/0008-cosignatures.sql"),
    include_str!("migrations/0009-roster.sql"),
];

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut conn = connect(path, "FULL")?;
        sqlexam_core::migrate::migrate(&conn, MIGRATIONS).map_err(|e| {
            StoreError::fatal(format!("{}: cannot open the database", path.display())).caused_by(e)
        })?;
        {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            super::tlog::index_leaves(&tx).map_err(err)?;
            tx.commit().map_err(err)?;
        }
        catch_up_log(&mut conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            jobs: Arc::new(Mutex::new(connect(path, "NORMAL")?)),
            reads: Arc::new(Mutex::new(connect(path, "NORMAL")?)),
        })
    }
}

/// Appends records stored before the log existed (a data folder of an earlier sqlexam).
fn catch_up_log(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let missing: Vec<(String, u64, Vec<u8>)> = {
        let mut stmt = tx
            .prepare(
                "SELECT session, seq, bytes FROM records WHERE leaf IS NULL
                 ORDER BY received_at, session, seq",
            )
            .map_err(err)?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })
        .map_err(err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(err)?
    };
    if missing.is_empty() {
        return Ok(());
    }
    let leaves = append_to_log(
        &tx,
        missing
            .iter()
            .map(|(_, _, b)| sqlexam_core::tlog::leaf_hash(b)),
    )
    .map_err(err)?;
    {
        let mut leaf = tx
            .prepare("UPDATE records SET leaf = ?3 WHERE session = ?1 AND seq = ?2")
            .map_err(err)?;
        for ((session, seq, _), at) in missing.iter().zip(&leaves) {
            leaf.execute(params![session, *seq as i64, *at as i64])
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}
