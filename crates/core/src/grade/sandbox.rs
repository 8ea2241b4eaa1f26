//! One run of SQL on one dataset, in a throwaway, hardened in-memory SQLite connection made
//! from the dataset's image. Nothing a run does outlives it. The sandbox never sees expected
//! results or reference SQL: it runs what it is given and reports what came out.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags, PrepFlags, StatementStatus};

use super::Refusal;
use super::authorizer::authorizer;
use crate::problem::{Kind, Limits};
use crate::sqlite::{fixed_clock_vfs, set_hard_heap_limit};
use crate::value::{Cell, ResultSet};

/// SQLite's process-wide memory ceiling while grading: a hostile query that allocates past
/// it fails with "out of memory" instead of taking the machine down.
pub const HEAP_LIMIT_BYTES: i64 = 512 << 20;
/// Memory a collected result may take before Output Limit Exceeded.
pub const OUTPUT_BYTE_LIMIT: u64 = 64 << 20;
/// What a row costs beyond its cells (its Vec).
const ROW_OVERHEAD: u64 = std::mem::size_of::<Vec<Cell>>() as u64;
/// How often (in VM steps) the progress handler checks the budget.
const PROGRESS_INTERVAL: u64 = 1_000;
/// Pages a DML run may add to its database (4 KiB pages: 16 MiB).
const EXTRA_PAGES: i64 = 4_096;

/// SQLite's run-time limits for candidate SQL, tuned so real exam queries pass (a five-term
/// UNION, a 30-way CASE, JSON helpers) while hostile ones fail fast. LENGTH is small because
/// some string functions (instr, replace) are quadratic inside one VM step, where neither
/// the step budget nor an interrupt can stop them. See docs/SECURITY.md.
pub const SQL_LIMITS: &[(Limit, i32)] = &[
    (Limit::SQLITE_LIMIT_LENGTH, 100_000),
    (Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000),
    (Limit::SQLITE_LIMIT_COLUMN, 500),
    (Limit::SQLITE_LIMIT_EXPR_DEPTH, 1_000),
    (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 50),
    (Limit::SQLITE_LIMIT_VDBE_OP, 100_000),
    (Limit::SQLITE_LIMIT_FUNCTION_ARG, 64),
    (Limit::SQLITE_LIMIT_ATTACHED, 0),
    (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1_000),
    (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 0),
    (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 10),
    (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
];

/// Everything a run needs to know about the problem and dataset.
pub(crate) struct Spec<'a> {
    pub image: &'a [u8],
    pub kind: Kind,
    /// Names of the problem's tables and views: the only ones candidates may touch.
    pub tables: Vec<String>,
    pub check_tables: &'a [String],
    pub limits: &'a Limits,
    pub output_row_cap: u64,
    pub now_unix_ms: i64,
    pub triggers: bool,
    pub views: bool,
}

/// What a successful run produced.
#[derive(Debug)]
pub(crate) enum Output {
    Rows(ResultSet),
    Tables(Vec<ResultSet>),
}

/// Why a run produced no output.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Refused while preparing: the same on every dataset.
    Refused(Refusal),
    /// SQLite could not prepare the statement (syntax, unknown column …): the same on every
    /// dataset, since it depends only on the schema. `offset` is a byte offset into the SQL.
    Compile {
        message: String,
        offset: usize,
    },
    /// Failed while running: depends on the data. `offset`: where the statement starts.
    Runtime {
        message: String,
        offset: usize,
    },
    TimeLimit {
        by_wall: bool,
    },
    OutputLimit {
        rows: u64,
        bytes: u64,
    },
}

pub(crate) struct Run {
    pub result: Result<Output, Failure>,
    pub steps: u64,
    pub wall: Duration,
}

/// The step budget and wall-clock deadline of one run, shared with the progress handler
/// and the watchdog.
struct Budget {
    used: AtomicU64,
    limit: u64,
    deadline: Instant,
    over_steps: AtomicBool,
    over_wall: AtomicBool,
}

/// Runs `statements` (byte ranges of `sql`, none empty) on a fresh copy of the image.
pub(crate) fn run(spec: &Spec<'_>, sql: &str, statements: &[Range<usize>]) -> Run {
    let started = Instant::now();
    let refusal = Arc::new(Mutex::new(None));
    let mut conn = match open(spec, refusal.clone()) {
        Ok(conn) => conn,
        Err(e) => {
            return Run {
                result: Err(Failure::Runtime {
                    message: format!("cannot open the exam database: {e}"),
                    offset: 0,
                }),
                steps: 0,
                wall: started.elapsed(),
            };
        }
    };
    let wall = Duration::from_millis(spec.limits.wall_ms);
    let budget = Arc::new(Budget {
        used: AtomicU64::new(0),
        limit: spec.limits.steps,
        deadline: started + wall,
        over_steps: AtomicBool::new(false),
        over_wall: AtomicBool::new(false),
    });
    let handler_budget = budget.clone();
    let installed = conn.progress_handler(
        PROGRESS_INTERVAL as i32,
        Some(move || {
            let b = &handler_budget;
            let used = b.used.fetch_add(PROGRESS_INTERVAL, Ordering::Relaxed) + PROGRESS_INTERVAL;
            if used > b.limit {
                b.over_steps.store(true, Ordering::Relaxed);
                return true;
            }
            if Instant::now() > b.deadline {
                b.over_wall.store(true, Ordering::Relaxed);
                return true;
            }
            false
        }),
    );
    let mut steps = 0;
    let result = match installed {
        Err(e) => Err(Failure::Runtime {
            message: e.to_string(),
            offset: 0,
        }),
        Ok(()) => with_watchdog(&conn, wall, &budget, || {
            execute(&conn, spec, sql, statements, &refusal, &budget, &mut steps)
        }),
    };
    // The candidate's part is over: our own reads of the check tables run without a budget.
    let result = match result {
        Ok(None) => {
            let _ = conn.progress_handler(0, None::<fn() -> bool>);
            read_tables(&conn, spec.check_tables)
                .map(Output::Tables)
                .map_err(|e| Failure::Runtime {
                    message: e.to_string(),
                    offset: 0,
                })
        }
        Ok(Some(rows)) => Ok(Output::Rows(rows)),
        Err(f) => Err(f),
    };
    Run {
        result,
        steps,
        wall: started.elapsed(),
    }
}

/// Opens the hardened connection on a fresh copy of the image.
fn open(spec: &Spec<'_>, refusal: Arc<Mutex<Option<Refusal>>>) -> rusqlite::Result<Connection> {
    static HEAP: Once = Once::new();
    HEAP.call_once(|| {
        set_hard_heap_limit(HEAP_LIMIT_BYTES);
    });
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn =
        Connection::open_in_memory_with_flags_and_vfs(flags, fixed_clock_vfs(spec.now_unix_ms))?;
    configure(&conn, spec.triggers, spec.views)?;
    let read_only = spec.kind == Kind::Select;
    conn.deserialize_read_exact(MAIN_DB, spec.image, spec.image.len(), read_only)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if !read_only {
        let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        conn.pragma_update(None, "max_page_count", pages + EXTRA_PAGES)?;
    }
    for &(limit, value) in SQL_LIMITS {
        conn.set_limit(limit, value)?;
    }
    conn.authorizer(Some(authorizer(spec.kind, spec.tables.clone(), refusal)))?;
    Ok(conn)
}

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

/// Interrupts the connection if `f` is still running after `wall`: the backstop for work
/// that takes no VM steps (a huge sort, one enormous printf), where the progress handler
/// never runs.
fn with_watchdog<T>(
    conn: &Connection,
    wall: Duration,
    budget: &Budget,
    f: impl FnOnce() -> T,
) -> T {
    let handle = conn.get_interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(wall) {
                budget.over_wall.store(true, Ordering::Relaxed);
                handle.interrupt();
            }
        });
        let out = f();
        drop(done);
        out
    })
}

/// Runs the candidate's statements. Select problems return their one result; DML problems
/// return `None` (their output is the check tables, read afterwards).
fn execute(
    conn: &Connection,
    spec: &Spec<'_>,
    sql: &str,
    statements: &[Range<usize>],
    refusal: &Mutex<Option<Refusal>>,
    budget: &Budget,
    steps: &mut u64,
) -> Result<Option<ResultSet>, Failure> {
    let mut result = None;
    for range in statements {
        let text = &sql[range.clone()];
        let mut stmt = match conn.prepare_with_flags(text, PrepFlags::SQLITE_PREPARE_NO_VTAB) {
            Ok(stmt) => stmt,
            Err(e) => {
                if let Some(why) = refusal.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(Failure::Refused(why));
                }
                return Err(compile_failure(e, range.start));
            }
        };
        if spec.kind == Kind::Select {
            if !stmt.readonly() {
                return Err(Failure::Refused(Refusal::NotAQuery));
            }
            if stmt.column_count() == 0 {
                return Err(Failure::Refused(Refusal::NotAQuery));
            }
        }
        let collected = collect(&mut stmt, spec.kind == Kind::Select, spec.output_row_cap);
        *steps += stmt.get_status(StatementStatus::VmStep) as u64;
        match collected {
            Ok(rows) => result = rows,
            Err(e) => return Err(runtime_failure(e, budget, range.start)),
        }
    }
    Ok(result)
}

enum StepError {
    Sqlite(rusqlite::Error),
    OutputLimit { rows: u64, bytes: u64 },
}

impl From<rusqlite::Error> for StepError {
    fn from(e: rusqlite::Error) -> Self {
        StepError::Sqlite(e)
    }
}

/// Steps a statement to the end, keeping its rows when `keep` (within the caps).
fn collect(
    stmt: &mut rusqlite::Statement<'_>,
    keep: bool,
    row_cap: u64,
) -> Result<Option<ResultSet>, StepError> {
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut out = ResultSet {
        columns,
        rows: Vec::new(),
    };
    let mut bytes = 0u64;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if !keep {
            continue;
        }
        let mut cells = Vec::with_capacity(width);
        bytes += ROW_OVERHEAD;
        for i in 0..width {
            let cell = Cell::from_sqlite(row.get_ref(i)?);
            bytes += cell.memory_size() as u64;
            cells.push(cell);
        }
        out.rows.push(cells);
        if out.rows.len() as u64 > row_cap || bytes > OUTPUT_BYTE_LIMIT {
            return Err(StepError::OutputLimit {
                rows: out.rows.len() as u64,
                bytes,
            });
        }
    }
    Ok(keep.then_some(out))
}

fn compile_failure(e: rusqlite::Error, start: usize) -> Failure {
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } => Failure::Compile {
            message: msg,
            offset: start + usize::try_from(offset).unwrap_or(0),
        },
        rusqlite::Error::SqliteFailure(_, Some(msg)) if msg.contains("virtual table") => {
            Failure::Refused(Refusal::VirtualTable)
        }
        other => Failure::Compile {
            message: sqlite_message(&other),
            offset: start,
        },
    }
}

fn runtime_failure(e: StepError, budget: &Budget, start: usize) -> Failure {
    let e = match e {
        StepError::OutputLimit { rows, bytes } => return Failure::OutputLimit { rows, bytes },
        StepError::Sqlite(e) => e,
    };
    match e.sqlite_error_code() {
        Some(ErrorCode::OperationInterrupted) => Failure::TimeLimit {
            by_wall: !budget.over_steps.load(Ordering::Relaxed),
        },
        Some(ErrorCode::OutOfMemory) => Failure::Runtime {
            message: "out of memory (the grader's memory limit was reached)".into(),
            offset: start,
        },
        _ => Failure::Runtime {
            message: sqlite_message(&e),
            offset: start,
        },
    }
}

/// SQLite's own message, without rusqlite's decoration.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// The contents of tables of a dataset image (organizer data, read on a plain read-only
/// connection: no candidate SQL runs here).
pub(crate) fn read_image_tables(
    image: &[u8],
    tables: &[String],
) -> rusqlite::Result<Vec<ResultSet>> {
    let mut conn = Connection::open_in_memory()?;
    conn.deserialize_read_exact(MAIN_DB, image, image.len(), true)?;
    read_tables(&conn, tables)
}

/// The full contents of each table, in declared column order.
pub(crate) fn read_tables(
    conn: &Connection,
    tables: &[String],
) -> rusqlite::Result<Vec<ResultSet>> {
    tables
        .iter()
        .map(|table| {
            let mut stmt =
                conn.prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))?;
            let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
            let width = columns.len();
            let rows = stmt
                .query_map([], |row| {
                    (0..width)
                        .map(|i| row.get_ref(i).map(Cell::from_sqlite))
                        .collect()
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ResultSet { columns, rows })
        })
        .collect()
}
