//! The backend for scale: PostgreSQL through a connection pool (tokio-postgres and
//! deadpool-postgres). Several server processes share one database: a session's batch locks
//! its session row (`FOR UPDATE`), so two processes never apply records of one session at
//! once, and re-grade workers claim jobs with `FOR UPDATE SKIP LOCKED`, so no two claim one.
//! Split by job as the SQLite backend is: `schema`, `chains`, `tlog`, `packs`, `jobs`, `reads`.

mod audit;
mod chains;
mod jobs;
mod packs;
mod reads;
mod schema;
mod tlog;

use deadpool_postgres::Pool;
use tokio_postgres::error::SqlState;

use super::{StoreError, StoreResult};

pub struct PgStore {
    pool: Pool,
}

/// A PostgreSQL error as a storage failure: retryable when the database was busy, shutting
/// down, or the connection itself failed.
fn err(e: tokio_postgres::Error) -> StoreError {
    let retryable = match e.code() {
        Some(code) => [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code),
        // No SQL state: the connection itself failed, which a retry may not meet again.
        None => true,
    };
    let failure = if retryable {
        StoreError::busy("the PostgreSQL database is busy or unreachable")
    } else {
        StoreError::fatal("the PostgreSQL database failed")
    };
    failure.caused_by(e)
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::busy("no database connection").caused_by(e)
}

impl PgStore {
    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}
