//! The one migration runner for sqlexam's SQLite files (a machine's session store, a
//! server's or relay's database): numbered migrations, the schema version in
//! `PRAGMA user_version`, each migration in its own transaction with its version bump.
//! A shipped migration is never edited; a change is a new one at the end.

use rusqlite::Connection;

/// Why a database could not be brought to the current schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    #[error("made by a newer sqlexam (schema {found}; this one knows {known})")]
    Newer { found: usize, known: usize },
    #[error("cannot bring the schema to version {version}")]
    Step {
        version: usize,
        #[source]
        source: rusqlite::Error,
    },
}

/// Brings `conn` to `migrations.len()`, running those it has not run yet, in order.
/// Returns the schema version it found.
pub fn migrate(conn: &Connection, migrations: &[&str]) -> Result<usize, MigrateError> {
    let step = |version| move |source| MigrateError::Step { version, source };
    let found: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(step(0))?;
    if found > migrations.len() {
        return Err(MigrateError::Newer {
            found,
            known: migrations.len(),
        });
    }
    for (i, migration) in migrations.iter().enumerate().skip(found) {
        let version = i + 1;
        // Unchecked: the caller may hold the connection by shared reference; nothing else
        // runs on it while it opens.
        let tx = conn.unchecked_transaction().map_err(step(version))?;
        tx.execute_batch(migration).map_err(step(version))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(step(version))?;
        tx.commit().map_err(step(version))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[&str] = &[
        "CREATE TABLE a (x INTEGER);",
        "ALTER TABLE a ADD COLUMN y TEXT;",
    ];

    #[test]
    fn migrations_run_once_in_order_and_a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&conn, &TWO[..1]).unwrap(), 0);
        assert_eq!(migrate(&conn, TWO).unwrap(), 1, "only the second runs now");
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'z')", [])
            .unwrap();
        assert_eq!(migrate(&conn, TWO).unwrap(), 2);
        let err = migrate(&conn, &TWO[..1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "made by a newer sqlexam (schema 2; this one knows 1)"
        );
    }

    #[test]
    fn a_failing_migration_leaves_the_version_where_it_was() {
        let conn = Connection::open_in_memory().unwrap();
        let bad = &[TWO[0], "ALTER TABLE nowhere ADD COLUMN y TEXT;"];
        let err = migrate(&conn, bad).unwrap_err();
        assert!(matches!(err, MigrateError::Step { version: 2, .. }));
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
    }
}
