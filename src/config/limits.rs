//! Abuse limits: REST quotas, whom `X-Forwarded-For` is believed from, and connections per user
//! and per address.

use crate::limits::{Forwarded, RestLimitsConfig};
use clap::Args;
use hub_rooms::conns::ConnLimits;
use hub_rooms::rate::Quota;

/// A quota, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalQuota(pub Option<Quota>);

impl std::fmt::Display for OptionalQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(q) => q.fmt(f),
            None => f.write_str("off"),
        }
    }
}

fn parse_optional_quota(text: &str) -> Result<OptionalQuota, String> {
    match text.trim() {
        "off" | "none" | "0" => Ok(OptionalQuota(None)),
        other => Quota::parse(other).map(|q| OptionalQuota(Some(q))),
    }
}

fn parse_quota(text: &str) -> Result<Quota, String> {
    Quota::parse(text)
}

/// An address (`192.0.2.7`, one host) or a network (`10.0.0.0/8`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network like 10.0.0.0/8"))
}

/// Abuse limits' flags.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// REST requests without a token, per client IP address: `count/period`.
    #[arg(long, env = "HUB_REST_RATE_ANON", default_value_t = RestLimitsConfig::DEFAULT_ANONYMOUS, value_parser = parse_quota)]
    pub rest_rate_anon: Quota,
    /// REST requests with a token, per user: `count/period`.
    #[arg(long, env = "HUB_REST_RATE_USER", default_value_t = RestLimitsConfig::DEFAULT_USER, value_parser = parse_quota)]
    pub rest_rate_user: Quota,
    /// Take a client's address from X-Forwarded-For (behind proxies): the entry
    /// `HUB_TRUSTED_PROXY_HOPS` places from the right, or, with `HUB_TRUSTED_PROXIES`, the
    /// right-most entry that is not one of them. Never the left-most, which the client writes.
    #[arg(long, env = "HUB_TRUST_FORWARDED", default_value_t = false)]
    pub trust_forwarded: bool,
    /// How many proxies in front of the hub append to X-Forwarded-For.
    #[arg(long, env = "HUB_TRUSTED_PROXY_HOPS", default_value_t = 1)]
    pub trusted_proxy_hops: usize,
    /// The proxies' addresses or networks, comma-separated (`10.0.0.0/8,192.0.2.7`); when
    /// set, they decide instead of the hop count.
    #[arg(long, env = "HUB_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Live connections (Socket.IO and /yjs together) one user may hold on a node; 0: no limit.
    #[arg(long, env = "HUB_MAX_CONNS_PER_USER", default_value_t = ConnLimits::DEFAULT.per_user)]
    pub max_conns_per_user: u32,
    /// Live connections one client address may hold on a node; 0: no limit.
    #[arg(long, env = "HUB_MAX_CONNS_PER_IP", default_value_t = ConnLimits::DEFAULT.per_ip)]
    pub max_conns_per_ip: u32,
    /// Handshakes (Socket.IO and /yjs, refused ones too) one address may start: `count/period`,
    /// or `off`.
    #[arg(long, env = "HUB_HANDSHAKE_RATE_IP", default_value_t = OptionalQuota(ConnLimits::DEFAULT.handshakes_per_ip), value_parser = parse_optional_quota)]
    pub handshake_rate_ip: OptionalQuota,
}

impl LimitArgs {
    pub fn resolve(&self) -> (RestLimitsConfig, ConnLimits) {
        let forwarded = match (self.trust_forwarded, self.trusted_proxies.is_empty()) {
            (false, _) => Forwarded::Ignored,
            (true, true) => Forwarded::Hops(self.trusted_proxy_hops),
            (true, false) => Forwarded::Proxies(self.trusted_proxies.clone()),
        };
        (
            RestLimitsConfig {
                anonymous: self.rest_rate_anon,
                user: self.rest_rate_user,
                forwarded,
            },
            ConnLimits {
                per_user: self.max_conns_per_user,
                per_ip: self.max_conns_per_ip,
                handshakes_per_ip: self.handshake_rate_ip.0,
            },
        )
    }
}
