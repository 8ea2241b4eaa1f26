//! Building a problem's SQLite images from its schema and dataset files. These files come
//! from the organizer, but are still run with the grading connection's settings (defensive
//! mode, no ATTACH, no PRAGMA) and without random(), so a pack build is deterministic.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::{ColumnInfo, TableInfo};
use crate::error::{Error, Result, line_column};
use crate::image::configure;
use crate::sqlite_ffi::{fixed_clock_vfs, statement_ranges};

/// The image of a schema with no data, and what the schema defines.
pub(crate) struct Base {
    pub image: Vec<u8>,
    pub tables: Vec<TableInfo>,
    pub has_triggers: bool,
    pub has_views: bool,
}

/// A connection for organizer files, on a copy of `image` if given. The authorizer comes
/// last: deserializing runs an internal ATTACH it would refuse.
fn setup_connection(
    now_unix_ms: i64,
    image: Option<&[u8]>,
) -> Result<(Connection, Arc<Mutex<Option<String>>>)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn =
        Connection::open_in_memory_with_flags_and_vfs(flags, fixed_clock_vfs(now_unix_ms))?;
    configure(&conn, true, true)?;
    if let Some(image) = image {
        conn.deserialize_read_exact(MAIN_DB, image, image.len(), false)?;
    }
    let refused = Arc::new(Mutex::new(None));
    let slot = refused.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let why = match ctx.action {
            AuthAction::Function { function_name }
                if ["random", "randomblob", "load_extension"]
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(function_name)) =>
            {
                Some(format!(
                    "{function_name}() is not allowed: datasets must be deterministic"
                ))
            }
            AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
                Some("ATTACH/DETACH is not allowed".into())
            }
            AuthAction::Pragma { pragma_name, .. } => {
                Some(format!("PRAGMA {pragma_name} is not allowed"))
            }
            _ => None,
        };
        match why {
            None => Authorization::Allow,
            Some(why) => {
                slot.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(why);
                Authorization::Deny
            }
        }
    }))?;
    Ok((conn, refused))
}

/// Runs every statement of a trusted SQL file, naming file, line and column on error.
fn run_file(
    conn: &Connection,
    refused: &Mutex<Option<String>>,
    path: &Path,
    sql: &str,
) -> Result<()> {
    let at = |offset: usize, message: String| {
        let (line, column) = line_column(sql, offset);
        Error::Sql {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    if let Some(offset) = sql.find('\0') {
        return Err(at(offset, "the file contains a NUL byte".into()));
    }
    for range in statement_ranges(sql) {
        let text = &sql[range.clone()];
        let mut stmt = match conn.prepare(text) {
            Ok(stmt) => stmt,
            Err(rusqlite::Error::Empty) => continue,
            Err(e) => {
                if let Some(why) = refused.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(at(range.start, why));
                }
                return Err(match e {
                    rusqlite::Error::SqlInputError { msg, offset, .. } => {
                        at(range.start + usize::try_from(offset).unwrap_or(0), msg)
                    }
                    other => at(range.start, other.to_string()),
                });
            }
        };
        let mut rows = stmt.raw_query();
        loop {
            match rows.next() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    let skipped = text.len() - text.trim_start().len();
                    return Err(at(range.start + skipped, e.to_string()));
                }
            }
        }
    }
    Ok(())
}

/// Runs `schema.sql` on an empty database and describes what it defines.
pub(crate) fn build_base(path: &Path, schema: &str, now_unix_ms: i64) -> Result<Base> {
    let (mut conn, refused) = setup_connection(now_unix_ms, None)?;
    run_file(&conn, &refused, path, schema)?;
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
    let mut tables = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
        )?;
        let names = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut cols = conn.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?;
        for (kind, name) in names {
            let columns = cols
                .query_map([&name], |r| {
                    Ok(ColumnInfo {
                        name: r.get(0)?,
                        decl_type: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tables.push(TableInfo {
                name,
                is_view: kind == "view",
                columns,
            });
        }
    }
    if tables.is_empty() {
        return Err(Error::invalid(path, "the schema defines no table"));
    }
    let count = |kind: &str| -> Result<bool> {
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = ?1",
            [kind],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    };
    let has_triggers = count("trigger")?;
    let has_views = count("view")?;
    let image = conn.serialize(MAIN_DB)?.to_vec();
    Ok(Base {
        image,
        tables,
        has_triggers,
        has_views,
    })
}

/// Loads one dataset file on a copy of the base image and returns the resulting image.
pub(crate) fn build_dataset(
    base: &[u8],
    path: &Path,
    data: &str,
    now_unix_ms: i64,
) -> Result<Vec<u8>> {
    let (mut conn, refused) = setup_connection(now_unix_ms, Some(base))?;
    run_file(&conn, &refused, path, data)?;
    Ok(conn.serialize(MAIN_DB)?.to_vec())
}

/// The Unix time in milliseconds of `text` (`YYYY-MM-DD HH:MM:SS`, UTC), parsed by SQLite
/// itself so the clock means exactly what SQLite's date functions will make of it.
pub(crate) fn parse_now(text: &str) -> Option<i64> {
    let well_formed = text.len() == 19
        && text.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    if !well_formed {
        return None;
    }
    crate::sqlite_ffi::init();
    let conn = Connection::open_in_memory().ok()?;
    let seconds: Option<i64> = conn
        .query_row("SELECT unixepoch(?1)", [text], |r| r.get(0))
        .ok()?;
    // SQLite accepts 2025-02-30 and normalizes it; insist on a real date.
    let round_trip: Option<String> = conn
        .query_row("SELECT datetime(?1, 'unixepoch')", [seconds?], |r| r.get(0))
        .ok()?;
    (round_trip.as_deref() == Some(text))
        .then(|| seconds.map(|s| s * 1000))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::parse_now;

    #[test]
    fn now_must_be_a_real_utc_timestamp() {
        assert_eq!(parse_now("1970-01-01 00:00:01"), Some(1000));
        assert_eq!(parse_now("2025-02-30 00:00:00"), None);
        assert_eq!(parse_now("2025-01-01T00:00:00"), None);
        assert_eq!(parse_now("tomorrow"), None);
    }
}
