//! What differs between operating systems, one function per concern, each saying what every
//! platform gets. Product code elsewhere calls these and has no `cfg` of its own; CI builds
//! and lints the workspace for Windows too, so a Unix-only call cannot land unnoticed.
#![allow(unsafe_code)] // the Windows clock calls and the Linux memory advice below

use std::fs::OpenOptions;

/// Makes `options` create a file only its owner can read, when `private`.
/// - Unix: mode 0600 (0644 otherwise).
/// - Windows: nothing is added. sqlexam keeps its files under the user's profile
///   (`directories`: `%APPDATA%`), whose inherited ACL gives access to that user, SYSTEM
///   and administrators only; other users of the machine cannot read them. An organizer
///   key written elsewhere gets the ACL of the folder it is written to.
pub(crate) fn private_file(options: &mut OpenOptions, private: bool) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 })
    }
    #[cfg(not(unix))]
    {
        let _ = private;
        options
    }
}

/// Creates a folder (and its parents) that only its owner can enter, when it does not
/// exist yet; an existing folder is left as it is.
/// - Unix: mode 0700 for the folder created.
/// - Windows: the inherited ACL, as for [`private_file`].
pub(crate) fn private_dir(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Milliseconds on a clock that stops while the machine sleeps (the exam clock).
/// - Linux and macOS: `Instant` (CLOCK_MONOTONIC / mach_absolute_time, which stop in sleep).
/// - Windows: `QueryUnbiasedInterruptTime`, which excludes sleep; Windows' `Instant`
///   (QueryPerformanceCounter) counts sleep, which would make a closed lid exam time.
pub(crate) fn awake_ms(start: &std::time::Instant) -> u64 {
    #[cfg(windows)]
    {
        let _ = start;
        let mut ticks: u64 = 0;
        // SAFETY: the call writes one u64 (100 ns units since boot, sleep excluded) to a
        // valid, aligned location we own; it cannot fail on Windows 7 and later.
        unsafe {
            windows_sys::Win32::System::WindowsProgramming::QueryUnbiasedInterruptTime(&mut ticks);
        }
        ticks / 10_000
    }
    #[cfg(not(windows))]
    {
        start.elapsed().as_millis() as u64
    }
}

/// Milliseconds since boot on a clock that keeps counting while the machine sleeps, so that
/// comparing it with [`awake_ms`] shows a sleep. `None` where there is none: a sleep then
/// goes unnoticed (its time neither counted nor recorded as an interruption).
/// - Linux: `/proc/uptime` (CLOCK_BOOTTIME).
/// - Windows: `GetTickCount64`, which counts sleep.
/// - elsewhere (macOS): `None` for now.
pub(crate) fn boot_ms() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/uptime").ok()?;
        let seconds: f64 = text.split_whitespace().next()?.parse().ok()?;
        Some((seconds * 1000.0) as u64)
    }
    #[cfg(windows)]
    {
        // SAFETY: a plain call with no arguments.
        Some(unsafe { windows_sys::Win32::System::SystemInformation::GetTickCount64() })
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        None
    }
}

/// Asks for a large buffer about to be filled to be backed by huge pages where the system
/// supports it, so filling it costs a few dozen page faults instead of one per 4 KiB (a 100 MB
/// pack entry: ~25,000 faults, about half the time its bytes take to hash).
/// - Linux: `madvise(MADV_HUGEPAGE)` (honoured when transparent huge pages are `madvise` or
///   `always`; ignored otherwise).
/// - elsewhere: nothing.
pub(crate) fn prefer_huge_pages(buffer: &mut [u8]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let aligned = start.next_multiple_of(HUGE);
        let end = start + buffer.len();
        if end > aligned + HUGE {
            let len = (end - aligned) / HUGE * HUGE;
            // SAFETY: [aligned, aligned + len) lies inside `buffer`, which we borrow mutably;
            // MADV_HUGEPAGE is advice about how to back that range and changes no contents.
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = buffer;
    }
}

/// Lowers the calling thread's scheduling priority, for work that should take only the CPU
/// time the threads it runs beside leave over (a key derivation beside verification). The
/// thread should end when that work is done: the priority cannot be raised again unprivileged.
/// - Linux: nice +10 for this thread only (`setpriority` on its thread id).
/// - Windows: `THREAD_PRIORITY_BELOW_NORMAL`.
/// - elsewhere: nothing.
pub(crate) fn yield_to_other_threads() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain calls; on Linux PRIO_PROCESS with a thread id affects that thread only.
        // Failure (e.g. a seccomp filter) leaves the priority as it was, which is harmless.
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
        }
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Threading::{
            GetCurrentThread, SetThreadPriority, THREAD_PRIORITY_BELOW_NORMAL,
        };
        // SAFETY: the pseudo-handle of the current thread is always valid.
        unsafe {
            SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL);
        }
    }
}
