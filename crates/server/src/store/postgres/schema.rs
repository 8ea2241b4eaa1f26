//! Connecting to PostgreSQL and bringing its schema up to date: the migrations in
//! `migrations/`, each run once, in order, under an advisory lock (processes may start at
//! once); the schema version in `schema_version`.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{PgStore, err, pool_err};
use crate::store::{StoreError, StoreResult};

/// In order; a shipped migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001-chains-jobs-packs.sql"),
    include_str!("migrations/0002-record-log.sql"),
    include_str!("migrations/0003-session-venue.sql"),
    include_str!("migrations/0004-token-revocation.sql"),
    include_str!("migrations/0005-leaf-index.sql"),
    include_str!("migrations/0006-proven-results.sql"),
    include_str!("migrations/0007-cosignatures.sql"),
    include_str!("migrations/0008-roster.sql"),
];

/// An arbitrary constant: the advisory lock migrations hold.
const MIGRATION_LOCK: i64 = 0x5351_4c65_7861_6d01;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates the schema.
    pub async fn connect(url: &str, max_connections: usize) -> StoreResult<PgStore> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::fatal(format!("not a PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .build()
            .map_err(|e| StoreError::fatal(format!("cannot make a connection pool: {e}")))?;
        let store = PgStore { pool };
        store.migrate().await?;
        store.index_leaves().await?;
        store.sequence_pending().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await
            .map_err(err)?;
        let version: i32 = tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await
            .map_err(err)?
            .map_or(0, |r| r.get(0));
        let known = MIGRATIONS.len() as i32;
        if version > known {
            return Err(StoreError::fatal(format!(
                "the database was made by a newer sqlexam (schema {version}, this one knows {known})"
            )));
        }
        for migration in &MIGRATIONS[version as usize..] {
            tx.batch_execute(migration).await.map_err(err)?;
        }
        tx.execute("DELETE FROM schema_version", &[])
            .await
            .map_err(err)?;
        tx.execute("INSERT INTO schema_version VALUES ($1)", &[&known])
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)
    }
}
