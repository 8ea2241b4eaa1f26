//! The few SQLite calls rusqlite does not wrap: a VFS with a fixed clock (so `date('now')`
//! is the same on every machine), the process-wide hard heap limit, and a count of the bytes
//! SQLite allocates on each thread (the grader charges them as steps: work that VM steps do
//! not count, such as building and sorting huge rows, must still use up the budget).
//! This is the only module with `unsafe`; each block says why it is sound.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{CString, c_int, c_void};
use std::sync::{Mutex, OnceLock};

use rusqlite::ffi;

/// Installs the allocation counter (once per process). It must run before SQLite
/// initializes, i.e. before the first connection of the process is opened: every place in
/// sqlexam-core that opens a connection calls it first, and so must any other code that
/// opens its own rusqlite connection in a process that grades. Returns whether the counter
/// is active (false when SQLite was initialized by someone else first).
pub fn init() -> bool {
    static ACTIVE: OnceLock<bool> = OnceLock::new();
    *ACTIVE.get_or_init(install_allocation_counter)
}

thread_local! {
    /// Bytes SQLite asked to allocate on this thread (mallocs and the new size of reallocs).
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

/// The bytes SQLite has allocated on the calling thread so far. A connection allocates on
/// the thread that steps it, so the difference over a run is that run's allocations: the
/// same on every machine, since SQLite asks for the same sizes for the same work.
pub(crate) fn allocated_on_this_thread() -> u64 {
    ALLOCATED.try_with(Cell::get).unwrap_or(0)
}

fn count(n: c_int) {
    let n = u64::try_from(n).unwrap_or(0);
    let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(n)));
}

/// SQLite's own allocator, which the counting one forwards to.
struct Underlying(ffi::sqlite3_mem_methods);
// SAFETY: the methods are plain C functions and pAppData is SQLite's own (null for the
// default allocator); SQLite itself calls them from any thread.
unsafe impl Send for Underlying {}
unsafe impl Sync for Underlying {}
static UNDERLYING: OnceLock<Underlying> = OnceLock::new();

unsafe extern "C" fn counting_malloc(n: c_int) -> *mut c_void {
    count(n);
    match UNDERLYING.get().and_then(|u| u.0.xMalloc) {
        // SAFETY: forwarding SQLite's call, with its argument, to the allocator it replaced.
        Some(malloc) => unsafe { malloc(n) },
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn counting_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    count(n);
    match UNDERLYING.get().and_then(|u| u.0.xRealloc) {
        // SAFETY: as in `counting_malloc`.
        Some(realloc) => unsafe { realloc(p, n) },
        None => std::ptr::null_mut(),
    }
}

fn install_allocation_counter() -> bool {
    // SAFETY: SQLITE_CONFIG_GETMALLOC writes the current methods into the struct we pass;
    // SQLITE_CONFIG_MALLOC copies the struct we pass. Both only succeed before SQLite is
    // initialized (they return SQLITE_MISUSE after, changing nothing). The counting methods
    // only forward to the saved ones, which are set before they are installed.
    unsafe {
        let mut current: ffi::sqlite3_mem_methods = std::mem::zeroed();
        if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETMALLOC, &raw mut current) != ffi::SQLITE_OK
            || current.xMalloc.is_none()
            || current.xRealloc.is_none()
        {
            return false;
        }
        let underlying = UNDERLYING.get_or_init(|| Underlying(current));
        let mut counting = underlying.0;
        counting.xMalloc = Some(counting_malloc);
        counting.xRealloc = Some(counting_realloc);
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const counting) == ffi::SQLITE_OK
    }
}

/// The file-handle size every grading connection's VFS declares (see `fixed_clock_vfs`).
const OS_FILE_BYTES: c_int = 512;

/// Milliseconds between the Julian-day epoch SQLite counts from and the Unix epoch.
const UNIX_EPOCH_JULIAN_MS: i64 = 210_866_760_000_000;

/// A copy of the default VFS whose clock always reads `julian_ms`. SQLite hands our
/// callbacks the `sqlite3_vfs` pointer, which is the first field, so it can be cast back.
#[repr(C)]
struct ClockVfs {
    base: ffi::sqlite3_vfs,
    julian_ms: i64,
    _name: CString,
}

unsafe extern "C" fn current_time_int64(vfs: *mut ffi::sqlite3_vfs, out: *mut i64) -> c_int {
    // SAFETY: SQLite only calls this with the pointer we registered, which points at the
    // `base` field (offset 0) of a leaked, never-freed `ClockVfs`; `out` is valid for write.
    unsafe {
        *out = (*vfs.cast::<ClockVfs>()).julian_ms;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn current_time(vfs: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    // SAFETY: as in `current_time_int64`.
    unsafe {
        *out = (*vfs.cast::<ClockVfs>()).julian_ms as f64 / 86_400_000.0;
    }
    ffi::SQLITE_OK
}

/// The name of a registered VFS whose clock reads `unix_ms` (registered on first use, one
/// per distinct time; problems share a handful of times, so the set stays tiny).
pub(crate) fn fixed_clock_vfs(unix_ms: i64) -> &'static str {
    init();
    static REGISTERED: OnceLock<Mutex<HashMap<i64, &'static str>>> = OnceLock::new();
    let mut map = REGISTERED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(name) = map.get(&unix_ms) {
        return name;
    }
    let name: &'static str = Box::leak(format!("sqlexam-clock-{unix_ms}").into_boxed_str());
    let c_name = CString::new(name).expect("VFS name has no NUL");
    // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS (initializing SQLite first); it
    // is static for the life of the process. We copy it by value, keep its pAppData (the
    // unix VFS methods need it), replace name and clock, and leak the copy so the pointer
    // SQLite keeps stays valid forever. Registration happens under the mutex above.
    unsafe {
        let default = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!default.is_null(), "SQLite has no default VFS");
        let mut base: ffi::sqlite3_vfs = *default;
        // The size of a file handle differs between the unix and the win32 VFS, and SQLite
        // allocates one with every pager (temporary tables and sorters too): charged as
        // bytes, it would make step counts differ by platform. One size for both, large
        // enough for either (a larger handle than needed is harmless).
        assert!(
            base.szOsFile <= OS_FILE_BYTES,
            "the default VFS's file handle is larger than expected"
        );
        base.szOsFile = OS_FILE_BYTES;
        base.pNext = std::ptr::null_mut();
        base.zName = c_name.as_ptr();
        base.xCurrentTime = Some(current_time);
        base.xCurrentTimeInt64 = Some(current_time_int64);
        let vfs = Box::leak(Box::new(ClockVfs {
            base,
            julian_ms: unix_ms + UNIX_EPOCH_JULIAN_MS,
            _name: c_name,
        }));
        let rc = ffi::sqlite3_vfs_register(&raw mut vfs.base, 0);
        assert_eq!(rc, ffi::SQLITE_OK, "registering the fixed-clock VFS failed");
    }
    map.insert(unix_ms, name);
    name
}

/// Sets SQLite's process-wide hard heap limit (bytes). Allocations beyond it fail with
/// SQLITE_NOMEM, which the grader reports as a runtime error. Returns the previous limit.
pub(crate) fn set_hard_heap_limit(bytes: i64) -> i64 {
    init();
    // SAFETY: a plain call with an integer argument; thread-safe in SQLite's serialized build.
    unsafe { ffi::sqlite3_hard_heap_limit64(bytes) }
}

/// Splits SQL text into statements: the byte ranges that end at a `;` where SQLite's own
/// `sqlite3_complete` says a statement ends (so strings, comments, quoted names and trigger
/// bodies are handled as SQLite handles them), plus any trailing text without a `;`.
/// Ranges may hold only white space or comments; preparing those yields nothing.
/// The text must not contain NUL bytes (callers refuse those first).
pub(crate) fn statement_ranges(sql: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, _) in sql.match_indices(';') {
        if is_complete(&sql[start..=i]) {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < sql.len() {
        ranges.push(start..sql.len());
    }
    ranges
}

fn is_complete(sql: &str) -> bool {
    init();
    let Ok(text) = CString::new(sql) else {
        return false;
    };
    // SAFETY: `text` is a valid NUL-terminated string that outlives the call;
    // sqlite3_complete only reads it.
    unsafe { ffi::sqlite3_complete(text.as_ptr()) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sql: &str) -> Vec<&str> {
        statement_ranges(sql).into_iter().map(|r| &sql[r]).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_comments_and_triggers() {
        assert_eq!(split("SELECT 1; SELECT ';'"), ["SELECT 1;", " SELECT ';'"]);
        assert_eq!(split("SELECT 1 -- a;b\n;"), ["SELECT 1 -- a;b\n;"]);
        let trigger = "CREATE TRIGGER t AFTER INSERT ON x BEGIN DELETE FROM y; END;";
        assert_eq!(
            split(&format!("{trigger}SELECT 2;")),
            [trigger, "SELECT 2;"]
        );
    }
}
