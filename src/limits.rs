//! The abuse limits' state: for REST, a token bucket per client address for requests without a
//! token, one per user for requests with one (the middleware is `http::limits`); for live
//! connections (Socket.IO and `/yjs`), the [`ConnGate`] that counts them by user and address
//! (the rules are `hub_rooms::conns`).

use axum::http::HeaderMap;
use hub_protocol::UserId;
use hub_rooms::conns::{Admission, ConnLimits, Refusal};
use hub_rooms::rate::{KeyedLimiter, Quota};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The REST quotas.
#[derive(Debug, Clone)]
pub struct RestLimitsConfig {
    pub anonymous: Quota,
    pub user: Quota,
    pub forwarded: Forwarded,
}

/// Whom `X-Forwarded-For` is believed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Forwarded {
    /// Not at all: the client is the connection's peer (the default).
    #[default]
    Ignored,
    /// From this many proxies in front of the hub, each appending the address it saw: the
    /// client is the entry this many places from the right.
    Hops(usize),
    /// From these proxies: the client is the right-most address (the peer included) that is
    /// not one of them, and the header counts only when the peer is one of them.
    Proxies(Vec<ipnet::IpNet>),
}

impl RestLimitsConfig {
    /// Requests without a token, per client address, by default.
    pub const DEFAULT_ANONYMOUS: Quota = Quota {
        count: 100,
        per: Duration::from_secs(15 * 60),
    };
    /// Requests with a token, per user, by default.
    pub const DEFAULT_USER: Quota = Quota {
        count: 3000,
        per: Duration::from_secs(15 * 60),
    };
}

impl Default for RestLimitsConfig {
    fn default() -> Self {
        RestLimitsConfig {
            anonymous: Self::DEFAULT_ANONYMOUS,
            user: Self::DEFAULT_USER,
            forwarded: Forwarded::Ignored,
        }
    }
}

pub struct RestLimits {
    anonymous: Mutex<KeyedLimiter<IpAddr>>,
    user: Mutex<KeyedLimiter<UserId>>,
    forwarded: Forwarded,
}

impl RestLimits {
    pub fn new(config: &RestLimitsConfig) -> RestLimits {
        RestLimits {
            anonymous: Mutex::new(KeyedLimiter::new(config.anonymous)),
            user: Mutex::new(KeyedLimiter::new(config.user)),
            forwarded: config.forwarded.clone(),
        }
    }

    /// The client's address. The left of `X-Forwarded-For` is whatever the client wrote, so
    /// it is read from the right: past the trusted proxies, never further. An entry that is
    /// not an address ends the walk at the peer.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
        let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        client_ip(&self.forwarded, headers, peer)
    }

    /// Takes one request from an anonymous client's allowance, or says how long to wait.
    pub fn check_address(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.anonymous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(&ip, now)
    }

    /// Takes one request from `user`'s allowance, or says how long to wait.
    pub fn check_user(&self, user: &UserId, now: Instant) -> Result<(), Duration> {
        self.user
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(user, now)
    }
}

/// Live connections by user and address, and handshakes by address, on this node.
pub struct ConnGate {
    admission: Mutex<Admission>,
    forwarded: Forwarded,
}

/// An admitted connection: released when dropped (the connection ended).
pub struct ConnTicket {
    gate: Arc<ConnGate>,
    user: String,
    ip: IpAddr,
}

impl Drop for ConnTicket {
    fn drop(&mut self) {
        self.gate.lock().release(&self.user, self.ip);
    }
}

impl ConnGate {
    pub fn new(limits: ConnLimits, forwarded: Forwarded) -> Arc<ConnGate> {
        Arc::new(ConnGate {
            admission: Mutex::new(Admission::new(limits)),
            forwarded,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Admission> {
        self.admission.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client's address, read as the REST limits read it.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
        client_ip(
            &self.forwarded,
            headers,
            peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        )
    }

    /// A handshake from `ip` begins.
    pub fn handshake(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let refused = self.lock().handshake(ip, now);
        if refused.is_err() {
            metrics::counter!("hub_connections_refused_total", "why" => "handshake_rate")
                .increment(1);
        }
        refused
    }

    /// A connection of `user` from `ip` opens; it counts until the ticket is dropped.
    pub fn admit(self: &Arc<Self>, user: &str, ip: IpAddr) -> Result<ConnTicket, Refusal> {
        self.lock().admit(user, ip).inspect_err(|r| {
            let why = match r {
                Refusal::UserFull { .. } => "per_user",
                Refusal::AddressFull { .. } => "per_ip",
                Refusal::TooFast { .. } => "handshake_rate",
            };
            metrics::counter!("hub_connections_refused_total", "why" => why).increment(1);
        })?;
        Ok(ConnTicket {
            gate: self.clone(),
            user: user.to_owned(),
            ip,
        })
    }

    /// Connections `user` holds on this node.
    pub fn held_by(&self, user: &str) -> u32 {
        self.lock().held_by(user)
    }
}

fn client_ip(forwarded: &Forwarded, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    // Every X-Forwarded-For header, in order, as one list of hops (left: furthest).
    let hops = || {
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                hops.push(None);
                continue;
            };
            hops.extend(value.split(',').map(|h| h.trim().parse().ok()));
        }
        hops
    };
    match forwarded {
        Forwarded::Ignored => peer,
        Forwarded::Hops(0) => peer,
        Forwarded::Hops(n) => {
            let hops = hops();
            match hops.len().checked_sub(*n) {
                Some(i) => hops[i].unwrap_or(peer),
                // Fewer entries than proxies: the left-most one some proxy wrote.
                None => hops.first().copied().flatten().unwrap_or(peer),
            }
        }
        Forwarded::Proxies(trusted) => {
            let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
            if !is_trusted(&peer) {
                return peer;
            }
            let mut client = peer;
            for hop in hops().into_iter().rev() {
                match hop {
                    Some(ip) if is_trusted(&ip) => client = ip,
                    Some(ip) => return ip,
                    None => return client,
                }
            }
            client
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_read_from_the_right_past_trusted_hops() {
        let peer = ip("10.0.0.1");
        // (setting, X-Forwarded-For headers, expected client)
        let hops1 = Forwarded::Hops(1);
        let hops2 = Forwarded::Hops(2);
        let lb: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let proxies = Forwarded::Proxies(lb);
        let table: Vec<(&Forwarded, Vec<&str>, &str)> = vec![
            (&Forwarded::Ignored, vec!["1.1.1.1"], "10.0.0.1"),
            // One appending proxy: a forged left entry is ignored.
            (&hops1, vec!["6.6.6.6, 2.2.2.2"], "2.2.2.2"),
            (&hops1, vec!["2.2.2.2"], "2.2.2.2"),
            (&hops1, vec![], "10.0.0.1"),
            (&hops1, vec!["6.6.6.6", "2.2.2.2"], "2.2.2.2"),
            (&hops1, vec!["6.6.6.6, junk"], "10.0.0.1"),
            // Two proxies (CDN then balancer): the client is second from the right.
            (&hops2, vec!["6.6.6.6, 2.2.2.2, 3.3.3.3"], "2.2.2.2"),
            (&hops2, vec!["2.2.2.2"], "2.2.2.2"),
            // A trusted list: skip the balancers, stop at the first outsider.
            (&proxies, vec!["6.6.6.6, 2.2.2.2, 10.0.0.7"], "2.2.2.2"),
            (&proxies, vec!["10.0.0.9, 10.0.0.7"], "10.0.0.9"),
            (&proxies, vec!["6.6.6.6, bad, 10.0.0.7"], "10.0.0.7"),
        ];
        for (setting, headers, expected) in table {
            assert_eq!(
                client_ip(setting, &with_xff(&headers), peer),
                ip(expected),
                "{setting:?} {headers:?}"
            );
        }
        // A peer that is not a trusted proxy is the client, whatever it forwards.
        let proxies = Forwarded::Proxies(vec!["10.0.0.0/24".parse().unwrap()]);
        assert_eq!(
            client_ip(&proxies, &with_xff(&["2.2.2.2"]), ip("9.9.9.9")),
            ip("9.9.9.9")
        );
    }
}
