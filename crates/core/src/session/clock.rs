//! Time, injected: a monotonic clock measures exam time while the app runs (wall-clock jumps
//! cannot touch it), the wall clock only measures time while the app was closed under the
//! "running" policy, and tests drive both by hand.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

pub trait Clock: Send + Sync {
    /// Milliseconds on a clock that never jumps (since an arbitrary start).
    fn monotonic_ms(&self) -> u64;
    /// The machine's wall clock, Unix milliseconds (it can jump either way).
    fn wall_ms(&self) -> i64;
    /// A clock that never jumps but, unlike `monotonic_ms`, also runs while the machine is
    /// suspended (`None` where the platform offers none): the difference is suspended time.
    fn boot_ms(&self) -> Option<u64>;
}

/// The real clocks.
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn monotonic_ms(&self) -> u64 {
        crate::platform::awake_ms(&self.start)
    }
    fn wall_ms(&self) -> i64 {
        time::OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .div_euclid(1_000_000) as i64
    }
    fn boot_ms(&self) -> Option<u64> {
        crate::platform::boot_ms()
    }
}

/// A clock moved by hand (tests, simulations).
#[derive(Default)]
pub struct ManualClock {
    monotonic: AtomicU64,
    wall: AtomicI64,
    suspended: AtomicU64,
}

impl ManualClock {
    pub fn new(wall_ms: i64) -> ManualClock {
        ManualClock {
            monotonic: AtomicU64::new(0),
            wall: AtomicI64::new(wall_ms),
            suspended: AtomicU64::new(0),
        }
    }
    /// Time passes: both clocks move.
    pub fn advance(&self, ms: u64) {
        self.monotonic.fetch_add(ms, Ordering::SeqCst);
        self.wall.fetch_add(ms as i64, Ordering::SeqCst);
    }
    /// The machine sleeps: wall and boot time pass, monotonic time does not.
    pub fn suspend(&self, ms: u64) {
        self.suspended.fetch_add(ms, Ordering::SeqCst);
        self.wall.fetch_add(ms as i64, Ordering::SeqCst);
    }
    /// Someone sets the wall clock (forwards or back); monotonic time does not move.
    pub fn jump_wall(&self, ms: i64) {
        self.wall.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn monotonic_ms(&self) -> u64 {
        self.monotonic.load(Ordering::SeqCst)
    }
    fn wall_ms(&self) -> i64 {
        self.wall.load(Ordering::SeqCst)
    }
    fn boot_ms(&self) -> Option<u64> {
        Some(self.monotonic.load(Ordering::SeqCst) + self.suspended.load(Ordering::SeqCst))
    }
}

/// The system clock with exam time running `speed` times faster (end-to-end tests of time
/// running out; the app honours it only in debug builds).
pub struct ScaledClock {
    base: SystemClock,
    speed: u64,
}

impl ScaledClock {
    pub fn new(speed: u64) -> ScaledClock {
        ScaledClock {
            base: SystemClock::default(),
            speed: speed.max(1),
        }
    }
}

impl Clock for ScaledClock {
    fn monotonic_ms(&self) -> u64 {
        self.base.monotonic_ms().saturating_mul(self.speed)
    }
    fn wall_ms(&self) -> i64 {
        self.base.wall_ms()
    }
    /// No suspend detection: scaled time would look like sleeping backwards.
    fn boot_ms(&self) -> Option<u64> {
        None
    }
}
