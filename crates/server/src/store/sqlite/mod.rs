//! The embedded backend: one SQLite file (WAL, `synchronous=FULL`), one writer connection
//! behind a mutex, every call on tokio's blocking pool. One server process owns the file;
//! several processes need the PostgreSQL backend. Split by job: `schema` (opening and
//! migrations), `chains` (a batch's transaction), `tlog` (the record log), `packs`, `jobs`,
//! `reads`, and `relay` (a venue relay's queue toward the central server).

mod audit;
mod chains;
mod jobs;
mod packs;
mod reads;
pub mod relay;
mod schema;
mod tlog;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::{StoreError, StoreResult};

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Job claims and verdicts, on a connection that commits without waiting for the disk
    /// (`synchronous=NORMAL`, still safe against a killed process): a verdict lost in a
    /// power cut leaves its job claimed, and it is graded again when the lease runs out.
    /// Records and receipts always go through `conn` (`synchronous=FULL`).
    jobs: Arc<Mutex<Connection>>,
    /// The record log's reads for receipts: a reader of its own (WAL lets it read what
    /// the writer committed while the writer goes on), so proving does not queue behind
    /// batches being stored.
    reads: Arc<Mutex<Connection>>,
}

fn connect(path: &Path, synchronous: &str) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
    ))
    .map_err(err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    Ok(conn)
}

/// A SQLite error as a storage failure: retryable when the file was only busy.
fn err(e: rusqlite::Error) -> StoreError {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    let failure = if busy {
        StoreError::busy("the SQLite database is busy")
    } else {
        StoreError::fatal("the SQLite database failed")
    };
    failure.caused_by(e)
}

impl SqliteStore {
    /// Runs `f` on the writer connection.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.conn.clone(), f).await
    }

    /// Runs `f` on the reader connection.
    async fn with_reads<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.reads.clone(), f).await
    }

    /// Runs `f` on the jobs connection.
    async fn with_jobs<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::on(self.jobs.clone(), f).await
    }

    async fn on<T: Send + 'static>(
        conn: Arc<Mutex<Connection>>,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard).map_err(err)
        })
        .await
        .map_err(|e| StoreError::fatal("a storage task failed").caused_by(e))?
    }
}
