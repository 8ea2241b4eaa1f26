//! The few SQLite calls rusqlite does not wrap: a VFS with a fixed clock (so `date('now')`
//! is the same on every machine) and the process-wide hard heap limit.
//! This is the only module with `unsafe`; each block says why it is sound.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::{CString, c_int};
use std::sync::{Mutex, OnceLock};

use rusqlite::ffi;

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
