//! A token bucket: `burst` tokens at once, refilled at `per_second`, time given by the caller.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(burst: u32, now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(burst.max(1)),
            at: now,
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&mut self, per_second: f64, burst: u32, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * per_second;
        self.tokens = (self.tokens + refill).min(f64::from(burst.max(1)));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Gives back a token taken for something that turned out to cost nothing.
    pub fn refund(&mut self, burst: u32) {
        self.tokens = (self.tokens + 1.0).min(f64::from(burst.max(1)));
    }

    /// True when the bucket would be full again at `now` (so it can be forgotten).
    pub fn refilled(&self, per_second: f64, burst: u32, now: Instant) -> bool {
        let full_after = Duration::from_secs_f64(
            (f64::from(burst.max(1)) - self.tokens).max(0.0) / per_second.max(f64::EPSILON),
        );
        now.saturating_duration_since(self.at) >= full_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(3, t0);
        // 3 at once, then empty.
        assert!((0..3).all(|_| b.take(2.0, 3, t0)));
        assert!(!b.take(2.0, 3, t0));
        // 2 per second: one more after 0.5 s, not before.
        assert!(!b.take(2.0, 3, t0 + Duration::from_millis(400)));
        assert!(b.take(2.0, 3, t0 + Duration::from_millis(900)));
        // Never more than the burst, however long it rested.
        let later = t0 + Duration::from_secs(60);
        assert!(b.refilled(2.0, 3, later));
        assert!((0..3).all(|_| b.take(2.0, 3, later)));
        assert!(!b.take(2.0, 3, later));
        assert!(!b.refilled(2.0, 3, later + Duration::from_millis(1400)));
        assert!(b.refilled(2.0, 3, later + Duration::from_millis(1500)));
        // A refund gives one token back, never past the burst.
        let mut c = TokenBucket::full(2, t0);
        assert!(c.take(1.0, 2, t0) && c.take(1.0, 2, t0));
        assert!(!c.take(1.0, 2, t0));
        c.refund(2);
        assert!(c.take(1.0, 2, t0));
        c.refund(2);
        c.refund(2);
        c.refund(2);
        assert!(c.take(1.0, 2, t0) && c.take(1.0, 2, t0));
        assert!(!c.take(1.0, 2, t0));
    }
}
