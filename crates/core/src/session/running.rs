//! The exam clock of running sessions: exam time in memory (monotonic) and its
//! checkpoints in the store, the closed-time policy after a restart or a suspend, and the
//! end of a session (time up, finished, or a proctor).

use super::chain::ChainedEvent;
use super::store::RunningSession;
use super::{EngineEvent, Inner, SessionError, SessionState, lock};
use crate::problem::WhileClosed;
use crate::record::Event;

/// A suspend shorter than this is not noticed (timer jitter).
const SUSPEND_MS: u64 = 5_000;
/// How often the running exam time is written to the store.
const CHECKPOINT_MS: u64 = 5_000;

/// The file a normal shutdown leaves beside the store (see `Inner::recover`).
pub(super) const CLEAN_EXIT: &str = "closed-cleanly";

/// The in-memory part of a running session's clock: exam time = `base` + monotonic time
/// since `mono_at_base`.
pub(super) struct RunningClock {
    base: u64,
    mono_at_base: u64,
    checkpointed_mono: u64,
}

impl RunningClock {
    /// A clock showing `base` exam time at monotonic time `mono` (just checkpointed).
    pub(super) fn starting_at(base: u64, mono: u64) -> RunningClock {
        RunningClock {
            base,
            mono_at_base: mono,
            checkpointed_mono: mono,
        }
    }
}

impl Inner {
    /// A session's state, duration and stored exam time.
    pub(super) fn session_row(
        &self,
        session: &str,
    ) -> Result<(SessionState, u64, u64), SessionError> {
        lock(&self.store).session_clock(session)
    }

    /// The session's exam time now.
    pub(super) fn elapsed(&self, session: &str, stored: u64) -> u64 {
        match lock(&self.running).get(session) {
            Some(c) => c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base),
            None => stored,
        }
    }

    /// A running session's exam time now, from its in-memory clock (`None` if not running).
    /// Read before taking the store lock: the lock order is `running`, then `store`.
    pub(super) fn live_elapsed(&self, session: &str) -> Option<u64> {
        lock(&self.running)
            .get(session)
            .map(|c| c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base))
    }

    /// After a restart: sessions that were running were closed or stopped; each gets an
    /// `interrupted` record saying which. Under "paused" they wait for a proctor; under
    /// "running" the closed time counts (never negative).
    pub(super) fn recover(&self) -> Result<(), SessionError> {
        // Written by a normal shutdown (`Drop`); its absence means the app did not close.
        let marker = self.dir.join(CLEAN_EXIT);
        let cause = if marker.exists() { "closed" } else { "stopped" };
        let _ = std::fs::remove_file(&marker);
        lock(&self.store).requeue_foreign_claims(&self.owner)?;
        let running = lock(&self.store).running_sessions()?;
        for RunningSession {
            id,
            elapsed_ms: elapsed,
            duration_ms: duration,
            checkpoint_wall_ms: checkpoint_wall,
        } in running
        {
            // A session whose pack cannot be loaded waits for a proctor; others go on.
            let policy = self
                .pack_of(&id)
                .map_or(WhileClosed::Paused, |p| p.exam.rules.while_closed);
            let mono = self.clock.monotonic_ms();
            let interrupted = Event::Interrupted {
                cause: cause.into(),
            };
            match policy {
                WhileClosed::Paused => {
                    self.write(|tx| {
                        tx.interrupt(&id)?;
                        self.append(tx, &id, elapsed, interrupted)?;
                        Ok(())
                    })?;
                }
                WhileClosed::Running => {
                    let wall = self.clock.wall_ms();
                    let closed = u64::try_from(wall - checkpoint_wall)
                        .unwrap_or(0)
                        .min(duration.saturating_sub(elapsed));
                    let elapsed = elapsed + closed;
                    self.write(|tx| {
                        tx.set_clock(&id, elapsed, wall)?;
                        self.append(tx, &id, elapsed - closed, interrupted)?;
                        self.append(tx, &id, elapsed, Event::Reopened { closed_ms: closed })?;
                        Ok(())
                    })?;
                    lock(&self.running).insert(id, RunningClock::starting_at(elapsed, mono));
                }
            }
        }
        Ok(())
    }

    /// Writes running sessions' exam time (every CHECKPOINT_MS, or now if `force`).
    pub(super) fn checkpoint_all(&self, force: bool) {
        let mono = self.clock.monotonic_ms();
        let wall = self.clock.wall_ms();
        let mut running = lock(&self.running);
        for (id, c) in running.iter_mut() {
            if force || mono.saturating_sub(c.checkpointed_mono) >= CHECKPOINT_MS {
                let elapsed = c.base + mono.saturating_sub(c.mono_at_base);
                let ok = lock(&self.store).checkpoint(id, elapsed, wall);
                if ok.is_ok() {
                    c.checkpointed_mono = mono;
                }
            }
        }
    }

    /// Checkpoints, applies the closed-time policy to a suspend, and ends sessions whose
    /// time is up.
    pub(super) fn tick(&self) {
        self.notice_suspend();
        self.checkpoint_all(false);
        let over: Vec<String> = {
            let running = lock(&self.running);
            let store = lock(&self.store);
            running
                .iter()
                .filter(|(id, c)| {
                    let elapsed = c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base);
                    let duration = store.duration(id).unwrap_or(u64::MAX);
                    elapsed >= duration
                })
                .map(|(id, _)| id.clone())
                .collect()
        };
        for id in over {
            let _ = self.end(&id, "time_up");
        }
    }

    /// A machine that slept (lid closed) stopped the monotonic clock: treat the sleep like
    /// the app being closed — under "paused" the session waits for a proctor, under
    /// "running" the time counts.
    pub(super) fn notice_suspend(&self) {
        let Some(boot) = self.clock.boot_ms() else {
            return;
        };
        let mono = self.clock.monotonic_ms();
        let previous = lock(&self.last_tick).replace((mono, boot));
        let Some((last_mono, last_boot)) = previous else {
            return;
        };
        let slept = boot
            .saturating_sub(last_boot)
            .saturating_sub(mono.saturating_sub(last_mono));
        if slept < SUSPEND_MS {
            return;
        }
        let ids: Vec<String> = lock(&self.running).keys().cloned().collect();
        for id in ids {
            let policy = self
                .pack_of(&id)
                .map_or(WhileClosed::Paused, |p| p.exam.rules.while_closed);
            // The sleep is measured, not guessed: it started where the clock stopped.
            let Some(asleep_at) = self.live_elapsed(&id) else {
                continue;
            };
            let interrupted = Event::Interrupted {
                cause: "suspended".into(),
            };
            let _ = match policy {
                WhileClosed::Running => {
                    let counted = {
                        let mut running = lock(&self.running);
                        running.get_mut(&id).map(|c| {
                            c.base += slept;
                            slept
                        })
                    };
                    self.write(|tx| {
                        self.append(tx, &id, asleep_at, interrupted)?;
                        if let Some(closed_ms) = counted {
                            self.append(
                                tx,
                                &id,
                                asleep_at + closed_ms,
                                Event::Reopened { closed_ms },
                            )?;
                        }
                        Ok(())
                    })
                }
                WhileClosed::Paused => {
                    lock(&self.running).remove(&id);
                    self.write(|tx| {
                        if tx.interrupt_running(&id, asleep_at)? {
                            self.append(tx, &id, asleep_at, interrupted)?;
                        }
                        Ok(())
                    })
                }
            };
        }
    }

    pub(super) fn end(&self, session: &str, reason: &str) -> Result<(), SessionError> {
        self.end_with(session, reason, None)
    }

    /// Ends a session (and appends `then`, e.g. the proctor action that ended it) in one
    /// transaction that re-reads the state, so two enders cannot both succeed.
    pub(super) fn end_with(
        &self,
        session: &str,
        reason: &str,
        then: Option<&ChainedEvent<'_>>,
    ) -> Result<(), SessionError> {
        let live = self.live_elapsed(session);
        {
            self.write(|tx| {
                let (state, duration, stored) = tx.session_clock(session)?;
                if state == SessionState::Ended {
                    return Err(SessionError::Ended);
                }
                let elapsed = if reason == "time_up" {
                    duration
                } else {
                    live.unwrap_or(stored).min(duration)
                };
                tx.end_session(session, elapsed)?;
                self.append(
                    tx,
                    session,
                    elapsed,
                    Event::SessionEnded {
                        reason: reason.into(),
                    },
                )?;
                if let Some(event) = then {
                    self.append_with(tx, session, elapsed, event)?;
                }
                Ok(())
            })?;
        }
        lock(&self.running).remove(session);
        self.emit(EngineEvent::SessionEnded {
            session: session.into(),
            reason: reason.into(),
        });
        Ok(())
    }
}
