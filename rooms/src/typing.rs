//! Typing indicators: ephemeral, never stored. `start` while already typing only pushes the
//! expiry back (no new event: that is the throttle); without a refresh a typist expires after
//! the TTL and a `typing: false` goes out.

use hub_protocol::UserId;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct TypingTracker {
    ttl: Duration,
    active: BTreeMap<(String, UserId), Instant>,
}

impl TypingTracker {
    pub fn new(ttl: Duration) -> Self {
        TypingTracker {
            ttl,
            active: BTreeMap::new(),
        }
    }

    /// `user` types in `room`. True when this is news (announce `typing: true`).
    pub fn start(&mut self, room: &str, user: &UserId, now: Instant) -> bool {
        self.active
            .insert((room.to_owned(), user.clone()), now + self.ttl)
            .is_none()
    }

    /// `user` stopped (or left). True when they were typing (announce `typing: false`).
    pub fn stop(&mut self, room: &str, user: &UserId) -> bool {
        self.active
            .remove(&(room.to_owned(), user.clone()))
            .is_some()
    }

    /// Typists whose TTL passed at `now`; they are removed.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, UserId)> {
        let due: Vec<_> = self
            .active
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &due {
            self.active.remove(k);
        }
        due
    }

    pub fn typing_in(&self, room: &str) -> Vec<UserId> {
        self.active
            .keys()
            .filter(|(r, _)| r == room)
            .map(|(_, u)| u.clone())
            .collect()
    }

    /// Forgets every typist in `room` (this node no longer follows it), announcing nothing.
    pub fn forget_room(&mut self, room: &str) {
        self.active.retain(|(r, _), _| r != room);
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.active.values().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_is_announced_once_and_refreshes_expiry() {
        let mut t = TypingTracker::new(DEFAULT_TTL);
        let bob = UserId::from("bob");
        let t0 = Instant::now();
        assert!(t.start("r", &bob, t0));
        assert!(
            !t.start("r", &bob, t0 + Duration::from_secs(3)),
            "throttled"
        );
        assert!(
            t.expire(t0 + Duration::from_secs(6)).is_empty(),
            "refreshed at 3s"
        );
        assert_eq!(
            t.expire(t0 + Duration::from_secs(8)),
            vec![("r".into(), bob.clone())]
        );
        assert!(t.typing_in("r").is_empty());
    }

    #[test]
    fn a_forgotten_room_keeps_no_typist() {
        let mut t = TypingTracker::new(DEFAULT_TTL);
        let now = Instant::now();
        let u = UserId::from("u");
        t.start("venture:a", &u, now);
        t.start("venture:b", &u, now);
        t.forget_room("venture:a");
        assert!(t.typing_in("venture:a").is_empty());
        assert_eq!(t.typing_in("venture:b"), vec![u]);
    }

    #[test]
    fn stop_is_announced_only_when_typing() {
        let mut t = TypingTracker::new(DEFAULT_TTL);
        let bob = UserId::from("bob");
        assert!(!t.stop("r", &bob));
        t.start("r", &bob, Instant::now());
        assert_eq!(t.typing_in("r"), vec![bob.clone()]);
        assert!(t.stop("r", &bob));
        assert!(t.expire(Instant::now() + DEFAULT_TTL * 2).is_empty());
    }
}
