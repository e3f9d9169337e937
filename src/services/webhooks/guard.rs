//! The SSRF guard: the webhook client never connects to a private, loopback or link-local
//! address (unless the operator allows them). Names are checked as they resolve, at every
//! connection (a name that resolves to a public address at registration and to a private
//! one later is refused then); addresses written in the URL are checked before the request.

use hub_rooms::webhooks::public_ip;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};

/// Resolves names with the system's resolver and keeps only public addresses.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| public_ip(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Why a URL may not be called: its host is an address that is not public. Names are left to
/// [`PublicOnly`].
pub fn refused_target(url: &str, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("not a URL: {e}")),
    };
    let ip: Option<IpAddr> = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(d))
            if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
        {
            return Some("a loopback target".to_owned());
        }
        Some(url::Host::Domain(_)) => None,
        None => return Some("no host".to_owned()),
    };
    match ip {
        Some(ip) if !public_ip(ip) => Some(format!("{ip} is not a public address")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_written_as_private_addresses_are_refused_unless_allowed() {
        for (url, refused) in [
            ("https://hooks.example.com/in", false),
            ("https://8.8.8.8/in", false),
            ("http://127.0.0.1:9000/in", true),
            ("http://[::1]/in", true),
            ("http://169.254.169.254/latest/meta-data", true),
            ("http://10.0.0.5/in", true),
            ("http://localhost:8080/in", true),
            ("http://api.localhost/in", true),
            ("http://[::ffff:192.168.0.1]/in", true),
        ] {
            assert_eq!(refused_target(url, false).is_some(), refused, "{url}");
            assert_eq!(refused_target(url, true), None, "{url}");
        }
    }

    #[tokio::test]
    async fn names_resolving_only_to_private_addresses_are_refused() {
        let refused = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("localhost resolves to no public address")
        );
    }
}
