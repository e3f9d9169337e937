//! The REST abuse limits' state: a token bucket per client address for requests without a
//! token, one per user for requests with one (the middleware is `http::limits`).

use axum::http::HeaderMap;
use hub_protocol::UserId;
use hub_rooms::rate::{KeyedLimiter, Quota};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The REST quotas.
#[derive(Debug, Clone)]
pub struct RestLimitsConfig {
    pub anonymous: Quota,
    pub user: Quota,
    pub trust_forwarded: bool,
}

impl Default for RestLimitsConfig {
    fn default() -> Self {
        RestLimitsConfig {
            anonymous: Quota {
                count: 100,
                per: Duration::from_secs(15 * 60),
            },
            user: Quota {
                count: 3000,
                per: Duration::from_secs(15 * 60),
            },
            trust_forwarded: false,
        }
    }
}

pub struct RestLimits {
    anonymous: Mutex<KeyedLimiter<IpAddr>>,
    user: Mutex<KeyedLimiter<UserId>>,
    trust_forwarded: bool,
}

impl RestLimits {
    pub fn new(config: &RestLimitsConfig) -> RestLimits {
        RestLimits {
            anonymous: Mutex::new(KeyedLimiter::new(config.anonymous)),
            user: Mutex::new(KeyedLimiter::new(config.user)),
            trust_forwarded: config.trust_forwarded,
        }
    }

    /// The client's address: the connection's, or the first `X-Forwarded-For` entry when the
    /// proxy is trusted.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
        let forwarded = self
            .trust_forwarded
            .then(|| headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|first| first.trim().parse().ok());
        forwarded
            .or(peer)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
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
