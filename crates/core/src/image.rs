//! SQLite database images, below both problems and the grader: the connection settings every
//! image is opened with (`configure`), stepping a statement into cells under output caps
//! (`collect`), and reading whole tables out of an image.

use rusqlite::config::DbConfig;
use rusqlite::{Connection, MAIN_DB};

use crate::value::{Cell, ResultSet};

/// What a row costs beyond its cells (its Vec).
const ROW_OVERHEAD: u64 = std::mem::size_of::<Vec<Cell>>() as u64;

/// The connection settings shared by grading and image building: SQLite's defensive mode,
/// an untrusted schema, no double-quoted string literals, foreign keys enforced.
pub(crate) fn configure(conn: &Connection, triggers: bool, views: bool) -> rusqlite::Result<()> {
    for (config, on) in [
        (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
        (DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY, true),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, triggers),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, views),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, false),
        (DbConfig::SQLITE_DBCONFIG_DQS_DML, false),
        (DbConfig::SQLITE_DBCONFIG_DQS_DDL, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_WRITE, false),
        (DbConfig::SQLITE_DBCONFIG_REVERSE_SCANORDER, false),
    ] {
        conn.set_db_config(config, on)?;
    }
    Ok(())
}

/// Why stepping a statement stopped early.
pub(crate) enum StepError {
    Sqlite(rusqlite::Error),
    OutputLimit { rows: u64, bytes: u64 },
}

impl From<rusqlite::Error> for StepError {
    fn from(e: rusqlite::Error) -> Self {
        StepError::Sqlite(e)
    }
}

/// What collected output may still take: rows and bytes of memory (cells as held).
pub(crate) struct OutputCaps {
    rows: u64,
    row_cap: u64,
    bytes: u64,
    byte_cap: u64,
}

impl OutputCaps {
    pub(crate) fn new(row_cap: u64, byte_cap: u64) -> OutputCaps {
        OutputCaps {
            rows: 0,
            row_cap,
            bytes: 0,
            byte_cap,
        }
    }
}

/// Steps a statement to the end, keeping its rows when `keep`, within `caps`.
pub(crate) fn collect(
    stmt: &mut rusqlite::Statement<'_>,
    keep: bool,
    caps: &mut OutputCaps,
) -> Result<Option<ResultSet>, StepError> {
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut out = ResultSet {
        columns,
        ..ResultSet::default()
    };
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if !keep {
            continue;
        }
        let mut cells = Vec::with_capacity(width);
        caps.bytes += ROW_OVERHEAD;
        for i in 0..width {
            let cell = Cell::from_sqlite(row.get_ref(i)?);
            caps.bytes += cell.memory_size() as u64;
            cells.push(cell);
        }
        out.rows.push(cells);
        caps.rows += 1;
        if caps.rows > caps.row_cap || caps.bytes > caps.byte_cap {
            return Err(StepError::OutputLimit {
                rows: caps.rows,
                bytes: caps.bytes,
            });
        }
    }
    Ok(keep.then_some(out))
}

/// The full contents of each table, in declared column order.
pub(crate) fn read_tables_within(
    conn: &Connection,
    tables: &[String],
    caps: &mut OutputCaps,
) -> Result<Vec<ResultSet>, StepError> {
    tables
        .iter()
        .map(|table| {
            let mut stmt =
                conn.prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))?;
            Ok(collect(&mut stmt, true, caps)?.unwrap_or_default())
        })
        .collect()
}

/// The contents of tables of a dataset image (organizer data, read on a plain read-only
/// connection: no candidate SQL runs here, so nothing is capped).
pub(crate) fn read_image_tables(image: &[u8], tables: &[String]) -> Option<Vec<ResultSet>> {
    crate::sqlite_ffi::init();
    let mut conn = Connection::open_in_memory().ok()?;
    conn.deserialize_read_exact(MAIN_DB, image, image.len(), true)
        .ok()?;
    let mut caps = OutputCaps::new(u64::MAX, u64::MAX);
    read_tables_within(&conn, tables, &mut caps).ok()
}
