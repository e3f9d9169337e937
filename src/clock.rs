//! The hub's one source of time. Every rule that depends on time (rate limits, presence grace,
//! typing expiry, awareness allowances, stored timestamps, the coming jobs) asks a [`Clock`]
//! held in `Core`, never the system directly, so tests drive time with a [`ManualClock`].
//!
//! Two readings: a monotonic [`Instant`] for durations and a wall time in Unix milliseconds for
//! what is stored and shown. A manual clock moves both together.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub trait Clock: Send + Sync + 'static {
    /// Monotonic time, for durations.
    fn now(&self) -> Instant;
    /// Milliseconds since the Unix epoch, for stored and displayed times.
    fn now_ms(&self) -> i64;
}

/// Renders stored milliseconds as RFC 3339 UTC with millisecond precision, the one format
/// every stored time is shown in.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The production clock. Its monotonic reading comes from tokio, so a test runtime paused with
/// `tokio::time::pause` moves it too.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told: starts at a given wall time and advances by
/// [`advance`](ManualClock::advance).
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    base_ms: i64,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock reading `start_ms` (Unix milliseconds).
    pub fn new(start_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            base: Instant::now(),
            base_ms: start_ms,
            offset: Mutex::new(Duration::ZERO),
        })
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + self.offset()
    }

    fn now_ms(&self) -> i64 {
        self.base_ms
            .saturating_add(i64::try_from(self.offset().as_millis()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_both_readings_together() {
        let clock = ManualClock::new(1_700_000_000_000);
        let (t0, ms0) = (clock.now(), clock.now_ms());
        assert_eq!(ms0, 1_700_000_000_000);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t0, "real time does not move it");
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1_500));
        assert_eq!(clock.now_ms(), 1_700_000_001_500);
    }

    #[test]
    fn the_system_clock_reads_the_wall() {
        let before = chrono::Utc::now().timestamp_millis();
        let ms = SystemClock.now_ms();
        assert!(ms >= before && ms - before < 60_000);
    }
}
