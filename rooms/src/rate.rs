//! A token bucket: `burst` tokens at once, refilled at `per_second`, time given by the caller;
//! quotas written `count/period` (`100/15m`), and per-key buckets that enforce one.

use std::collections::HashMap;
use std::hash::Hash;
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
        // A token due now counts even when the float sum falls a hair short of it.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }

    /// Gives back a token taken for something that turned out to cost nothing.
    pub fn refund(&mut self, burst: u32) {
        self.tokens = (self.tokens + 1.0).min(f64::from(burst.max(1)));
    }

    /// How long until the next token, counted from the last take.
    pub fn wait(&self, per_second: f64) -> Duration {
        Duration::from_secs_f64((1.0 - self.tokens).max(0.0) / per_second.max(f64::EPSILON))
    }

    /// True when the bucket would be full again at `now` (so it can be forgotten).
    pub fn refilled(&self, per_second: f64, burst: u32, now: Instant) -> bool {
        let full_after = Duration::from_secs_f64(
            (f64::from(burst.max(1)) - self.tokens).max(0.0) / per_second.max(f64::EPSILON),
        );
        now.saturating_duration_since(self.at) >= full_after
    }
}

/// `count` requests per `per`: a bucket of `count` that refills over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub per: Duration,
}

impl Quota {
    pub fn per_second(&self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64().max(f64::EPSILON)
    }

    /// `100/15m`: a count, a slash, a period with a unit (`s`, `m`, `h`, `d`; a bare number is
    /// seconds).
    pub fn parse(text: &str) -> Result<Quota, String> {
        let bad = || format!("{text:?} is not a quota like 100/15m");
        let (count, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let split = period
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(period.len());
        let (n, unit) = period.split_at(split);
        let n: u64 = if n.is_empty() {
            1
        } else {
            n.parse().map_err(|_| bad())?
        };
        let unit_secs = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        if count == 0 || n == 0 {
            return Err(format!(
                "{text:?}: the count and the period must be above zero"
            ));
        }
        Ok(Quota {
            count,
            per: Duration::from_secs(n.saturating_mul(unit_secs)),
        })
    }
}

/// As [`Quota::parse`] reads it, the period in its largest whole unit (`100/15m`).
impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.per.as_secs();
        let (n, unit) = [(86_400, "d"), (3_600, "h"), (60, "m")]
            .into_iter()
            .find(|(u, _)| secs >= *u && secs % u == 0)
            .map(|(u, unit)| (secs / u, unit))
            .unwrap_or((secs, "s"));
        write!(f, "{}/{n}{unit}", self.count)
    }
}

/// One bucket per key, each enforcing `quota`.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    quota: Quota,
    buckets: HashMap<K, TokenBucket>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(quota: Quota) -> Self {
        KeyedLimiter {
            quota,
            buckets: HashMap::new(),
        }
    }

    /// Takes one request from `key`'s allowance, or says how long until the next is allowed.
    pub fn check(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = (self.quota.per_second(), self.quota.count);
        if self.buckets.len() >= 10_000 {
            self.buckets.retain(|_, b| !b.refilled(rate, burst, now));
        }
        let bucket = self
            .buckets
            .entry(key.clone())
            .or_insert_with(|| TokenBucket::full(burst, now));
        if bucket.take(rate, burst, now) {
            Ok(())
        } else {
            Err(bucket.wait(rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_is_written_as_it_is_read() {
        for (text, shown) in [
            ("100/15m", "100/15m"),
            ("3000/900", "3000/15m"),
            ("200/10s", "200/10s"),
            ("5/90s", "5/90s"),
            ("1/1h", "1/1h"),
            ("7/2d", "7/2d"),
            ("9/3600s", "9/1h"),
        ] {
            let q = Quota::parse(text).unwrap();
            assert_eq!(q.to_string(), shown, "{text}");
            assert_eq!(Quota::parse(shown), Ok(q), "{shown}");
        }
    }

    #[test]
    fn quotas_parse_as_written() {
        let q = Quota::parse("100/15m").unwrap();
        assert_eq!((q.count, q.per), (100, Duration::from_secs(900)));
        assert_eq!(
            Quota::parse("3000/15m").unwrap().per,
            Duration::from_secs(900)
        );
        assert_eq!(Quota::parse("10/s").unwrap().per, Duration::from_secs(1));
        assert_eq!(
            Quota::parse("5/2h").unwrap().per,
            Duration::from_secs(7_200)
        );
        for bad in ["", "100", "x/15m", "100/15y", "0/1m", "5/0s"] {
            assert!(Quota::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_over_its_quota_hears_when_to_come_back() {
        // 100 per 15 minutes: one every 9 s once the 100 are spent.
        let t0 = Instant::now();
        let mut limiter = KeyedLimiter::new(Quota::parse("100/15m").unwrap());
        for _ in 0..100 {
            assert!(limiter.check(&"1.2.3.4", t0).is_ok());
        }
        let wait = limiter.check(&"1.2.3.4", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 9.0).abs() < 1e-6, "{wait:?}");
        assert!(limiter.check(&"5.6.7.8", t0).is_ok(), "keys are separate");
        let later = t0 + Duration::from_secs(9);
        assert!(limiter.check(&"1.2.3.4", later).is_ok());
        assert!(limiter.check(&"1.2.3.4", later).is_err());
    }

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
