//! How many live connections (Socket.IO and `/yjs` together) one user and one client address
//! may hold on a node, and how fast one address may open them. The server asks before a
//! handshake ([`Admission::handshake`], every attempt counts, a bad token too) and once the
//! user is known ([`Admission::admit`]); every admitted connection is released when it ends.
//! A limit of 0 is no limit.

use crate::rate::{KeyedLimiter, Quota};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits (`HUB_MAX_CONNS_PER_USER`, `HUB_MAX_CONNS_PER_IP`, `HUB_HANDSHAKE_RATE_IP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    pub per_user: u32,
    pub per_ip: u32,
    pub handshakes_per_ip: Option<Quota>,
}

impl ConnLimits {
    /// The defaults (the `HUB_MAX_CONNS_*` and `HUB_HANDSHAKE_RATE_IP` flags start from them).
    pub const DEFAULT: ConnLimits = ConnLimits {
        per_user: 100,
        per_ip: 1000,
        handshakes_per_ip: Some(Quota {
            count: 200,
            per: Duration::from_secs(10),
        }),
    };
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl ConnLimits {
    /// No limit at all.
    pub fn none() -> Self {
        ConnLimits {
            per_user: 0,
            per_ip: 0,
            handshakes_per_ip: None,
        }
    }
}

/// Why a connection is refused. Its text starts with the error code `rate_limited`, which is
/// what clients (the SDK) read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooFast { retry: Duration },
    UserFull { limit: u32 },
    AddressFull { limit: u32 },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooFast { retry } => write!(
                f,
                "rate_limited: too many connections opened from this address; retry in {} s",
                retry.as_secs_f64().ceil().max(1.0)
            ),
            Refusal::UserFull { limit } => write!(
                f,
                "rate_limited: this user holds {limit} connections, the most allowed; close one first"
            ),
            Refusal::AddressFull { limit } => write!(
                f,
                "rate_limited: this address holds {limit} connections, the most allowed"
            ),
        }
    }
}

/// The live connections of a node, by user and by address.
#[derive(Debug)]
pub struct Admission {
    limits: ConnLimits,
    users: HashMap<String, u32>,
    addresses: HashMap<IpAddr, u32>,
    handshakes: Option<KeyedLimiter<IpAddr>>,
}

impl Admission {
    pub fn new(limits: ConnLimits) -> Self {
        Admission {
            limits,
            users: HashMap::new(),
            addresses: HashMap::new(),
            handshakes: limits.handshakes_per_ip.map(KeyedLimiter::new),
        }
    }

    /// A handshake from `ip` at `now`: refused past the address's handshake rate.
    pub fn handshake(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        match &mut self.handshakes {
            Some(limiter) => limiter
                .check(&ip, now)
                .map_err(|retry| Refusal::TooFast { retry }),
            None => Ok(()),
        }
    }

    /// A connection of `user` from `ip` opens: counted, or refused when either holds its most.
    pub fn admit(&mut self, user: &str, ip: IpAddr) -> Result<(), Refusal> {
        let held_user = self.users.get(user).copied().unwrap_or(0);
        let held_ip = self.addresses.get(&ip).copied().unwrap_or(0);
        if self.limits.per_user > 0 && held_user >= self.limits.per_user {
            return Err(Refusal::UserFull {
                limit: self.limits.per_user,
            });
        }
        if self.limits.per_ip > 0 && held_ip >= self.limits.per_ip {
            return Err(Refusal::AddressFull {
                limit: self.limits.per_ip,
            });
        }
        *self.users.entry(user.to_owned()).or_insert(0) += 1;
        *self.addresses.entry(ip).or_insert(0) += 1;
        Ok(())
    }

    /// A connection admitted for `user` from `ip` ended.
    pub fn release(&mut self, user: &str, ip: IpAddr) {
        if let Some(n) = self.users.get_mut(user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.users.remove(user);
            }
        }
        if let Some(n) = self.addresses.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.addresses.remove(&ip);
            }
        }
    }

    /// Connections `user` holds.
    pub fn held_by(&self, user: &str) -> u32 {
        self.users.get(user).copied().unwrap_or(0)
    }

    /// Connections `ip` holds.
    pub fn held_from(&self, ip: IpAddr) -> u32 {
        self.addresses.get(&ip).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn users_and_addresses_hold_at_most_their_limit_and_get_it_back() {
        let mut a = Admission::new(ConnLimits {
            per_user: 2,
            per_ip: 3,
            handshakes_per_ip: None,
        });
        assert_eq!(a.admit("ann", ip(1)), Ok(()));
        assert_eq!(a.admit("ann", ip(2)), Ok(()));
        assert_eq!(a.admit("ann", ip(3)), Err(Refusal::UserFull { limit: 2 }));
        assert_eq!(a.admit("bob", ip(1)), Ok(()));
        assert_eq!(a.admit("cat", ip(1)), Ok(()));
        assert_eq!(
            a.admit("dan", ip(1)),
            Err(Refusal::AddressFull { limit: 3 })
        );
        // A refusal counts nothing; a release gives one back.
        assert_eq!((a.held_by("ann"), a.held_from(ip(1))), (2, 3));
        a.release("ann", ip(1));
        assert_eq!((a.held_by("ann"), a.held_from(ip(1))), (1, 2));
        assert_eq!(a.admit("dan", ip(1)), Ok(()));
        for (u, i) in [("ann", 2), ("bob", 1), ("cat", 1), ("dan", 1)] {
            a.release(u, ip(i));
        }
        assert_eq!(
            (a.held_by("ann"), a.held_from(ip(1)), a.held_from(ip(2))),
            (0, 0, 0)
        );
        assert!(
            a.users.is_empty() && a.addresses.is_empty(),
            "nothing kept for nobody"
        );
    }

    #[test]
    fn handshakes_are_rated_per_address() {
        // 3 per 30 s: one every 10 s once spent.
        let mut a = Admission::new(ConnLimits {
            per_user: 0,
            per_ip: 0,
            handshakes_per_ip: Some(Quota::parse("3/30s").unwrap()),
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(a.handshake(ip(1), t0), Ok(()));
        }
        let Err(Refusal::TooFast { retry }) = a.handshake(ip(1), t0) else {
            panic!("the fourth handshake passed");
        };
        assert_eq!(retry.as_secs(), 10);
        assert_eq!(a.handshake(ip(2), t0), Ok(()), "another address");
        assert_eq!(a.handshake(ip(1), t0 + Duration::from_secs(10)), Ok(()));
        // No limit: everything passes.
        let mut open = Admission::new(ConnLimits::none());
        for _ in 0..10_000 {
            assert_eq!(open.handshake(ip(1), t0), Ok(()));
            assert_eq!(open.admit("ann", ip(1)), Ok(()));
        }
        assert!(
            Refusal::UserFull { limit: 100 }
                .to_string()
                .starts_with("rate_limited")
        );
    }
}
