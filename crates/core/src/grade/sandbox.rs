//! One run of SQL on one dataset, in a throwaway, hardened in-memory SQLite connection made
//! from the dataset's image. Nothing a run does outlives it. The sandbox never sees expected
//! results or reference SQL: it runs what it is given and reports what came out.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags, PrepFlags, StatementStatus};

use super::Refusal;
use super::authorizer::authorizer;
use crate::image::{OutputCaps, StepError, collect, configure, read_tables_within};
use crate::problem::{Kind, Limits};
use crate::sqlite_ffi::{allocated_on_this_thread, fixed_clock_vfs, set_hard_heap_limit};
use crate::value::ResultSet;

/// SQLite's process-wide memory ceiling while grading: a hostile query that allocates past
/// it fails with "out of memory" instead of taking the machine down.
pub const HEAP_LIMIT_BYTES: i64 = 512 << 20;
/// Memory a collected result may take before Output Limit Exceeded.
pub const OUTPUT_BYTE_LIMIT: u64 = 64 << 20;
/// How often (in VM steps) the progress handler checks the budget. Small, because one step
/// can allocate up to SQLite's LENGTH limit (100 KB), which the budget charges too.
const PROGRESS_INTERVAL: u64 = 100;
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
    /// When the whole submission's wall-clock allowance runs out (the last resort).
    pub deadline: Instant,
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
    /// The cost of the run: VM steps plus the bytes SQLite allocated (see `Budget`).
    pub steps: u64,
    pub wall: Duration,
}

/// The budget of one run, shared with the progress handler and the watchdog. A run costs
/// one step per VM instruction plus one per byte SQLite allocates for it: building,
/// copying and sorting large values takes few instructions but many bytes, and counting the
/// bytes keeps such work inside the same deterministic budget (the same sizes are asked
/// for on every machine). The wall-clock deadline is only the last resort.
struct Budget {
    vm_steps: AtomicU64,
    allocated_at_start: u64,
    /// What preparing statements allocated: it depends on the SQL, not on the data, and is
    /// not charged (so a dataset's cost grows with its data alone).
    preparing: AtomicU64,
    limit: u64,
    deadline: Instant,
    over_steps: AtomicBool,
    over_wall: AtomicBool,
}

impl Budget {
    /// Bytes allocated since the run started; only meaningful on the grading thread.
    fn allocated(&self) -> u64 {
        allocated_on_this_thread()
            .saturating_sub(self.allocated_at_start)
            .saturating_sub(self.preparing.load(Ordering::Relaxed))
    }
}

/// Runs `statements` (byte ranges of `sql`, none empty) on a fresh copy of the image.
pub(crate) fn run(spec: &Spec<'_>, sql: &str, statements: &[Range<usize>]) -> Run {
    let started = Instant::now();
    let failed = |message: String| Run {
        result: Err(Failure::Runtime { message, offset: 0 }),
        steps: 0,
        wall: started.elapsed(),
    };
    if !crate::sqlite_ffi::init() {
        // Without the allocation count the budget would not be the same on every machine.
        return failed(
            "the grader cannot count SQLite's allocations: SQLite was initialized before \
             sqlexam_core::init_sqlite() ran"
                .into(),
        );
    }
    if started >= spec.deadline {
        return Run {
            result: Err(Failure::TimeLimit { by_wall: true }),
            steps: 0,
            wall: Duration::ZERO,
        };
    }
    let refusal = Arc::new(Mutex::new(None));
    let mut conn = match open(spec, refusal.clone()) {
        Ok(conn) => conn,
        Err(e) => return failed(format!("cannot open the exam database: {e}")),
    };
    let budget = Arc::new(Budget {
        vm_steps: AtomicU64::new(0),
        allocated_at_start: allocated_on_this_thread(),
        preparing: AtomicU64::new(0),
        limit: spec.limits.steps,
        deadline: spec.deadline,
        over_steps: AtomicBool::new(false),
        over_wall: AtomicBool::new(false),
    });
    let handler_budget = budget.clone();
    let installed = conn.progress_handler(
        PROGRESS_INTERVAL as i32,
        Some(move || {
            let b = &handler_budget;
            let vm = b.vm_steps.fetch_add(PROGRESS_INTERVAL, Ordering::Relaxed) + PROGRESS_INTERVAL;
            if vm.saturating_add(b.allocated()) > b.limit {
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
    let mut vm_steps = 0;
    let result = match installed {
        Err(e) => Err(Failure::Runtime {
            message: e.to_string(),
            offset: 0,
        }),
        Ok(()) => with_watchdog(&conn, &budget, || {
            execute(
                &conn,
                spec,
                sql,
                statements,
                &refusal,
                &budget,
                &mut vm_steps,
            )
        }),
    };
    let steps = vm_steps.saturating_add(budget.allocated());
    // The candidate's part is over: our own reads of the check tables run without a budget,
    // but under the same output caps as a result.
    let result = match result {
        Ok(None) => {
            let _ = conn.progress_handler(0, None::<fn() -> bool>);
            read_tables(&conn, spec.check_tables, spec.output_row_cap).map(Output::Tables)
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

/// Interrupts the connection if `f` is still running at the submission's deadline: the
/// backstop for work that neither steps nor allocates much (a long sort of rows already
/// built), where the progress handler does not run.
fn with_watchdog<T>(conn: &Connection, budget: &Budget, f: impl FnOnce() -> T) -> T {
    let handle = conn.get_interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    let wall = budget.deadline.saturating_duration_since(Instant::now());
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
    let mut caps = OutputCaps::new(spec.output_row_cap, OUTPUT_BYTE_LIMIT);
    for range in statements {
        let text = &sql[range.clone()];
        let before = allocated_on_this_thread();
        let prepared = conn.prepare_with_flags(text, PrepFlags::SQLITE_PREPARE_NO_VTAB);
        budget.preparing.fetch_add(
            allocated_on_this_thread().saturating_sub(before),
            Ordering::Relaxed,
        );
        let mut stmt = match prepared {
            Ok(stmt) => stmt,
            Err(e) => {
                if let Some(why) = refusal.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(Failure::Refused(why));
                }
                return Err(compile_failure(e, text, range.start));
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
        let collected = collect(&mut stmt, spec.kind == Kind::Select, &mut caps);
        *steps += stmt.get_status(StatementStatus::VmStep) as u64;
        match collected {
            Ok(rows) => result = rows,
            Err(e) => return Err(runtime_failure(e, budget, range.start)),
        }
    }
    Ok(result)
}

/// Reads whole tables after a DML run, all of them together under the caps of a result:
/// a check table the candidate filled is output like any other.
fn read_tables(
    conn: &Connection,
    tables: &[String],
    row_cap: u64,
) -> Result<Vec<ResultSet>, Failure> {
    let mut caps = OutputCaps::new(row_cap, OUTPUT_BYTE_LIMIT);
    read_tables_within(conn, tables, &mut caps).map_err(|e| match e {
        StepError::OutputLimit { rows, bytes } => Failure::OutputLimit { rows, bytes },
        StepError::Sqlite(e) => Failure::Runtime {
            message: sqlite_message(&e),
            offset: 0,
        },
    })
}

/// A statement SQLite could not prepare. `text` is the statement, at byte `start` of the
/// submission; the offset points where SQLite stopped, or, for input that ends too early
/// ("incomplete input", where SQLite gives no offset), at the end of the statement.
fn compile_failure(e: rusqlite::Error, text: &str, start: usize) -> Failure {
    let end = start + text.trim_end().trim_end_matches(';').trim_end().len();
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } => Failure::Compile {
            offset: match usize::try_from(offset) {
                Ok(o) if o > 0 || msg != "incomplete input" => start + o,
                _ => end,
            },
            message: msg,
        },
        rusqlite::Error::SqliteFailure(_, Some(msg)) if msg == "incomplete input" => {
            Failure::Compile {
                message: msg,
                offset: end,
            }
        }
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
