//! Rules of webhooks: which events exist, which endpoint hears which, how long a failed
//! delivery waits, when it is given up, what a secret and a target may be.

use crate::fields::{FieldError, refuse, url};
use std::net::IpAddr;

/// Every event type an endpoint may subscribe to (`*` subscribes to all).
pub const EVENT_TYPES: &[&str] = &[
    "task.credited",
    "task.withheld",
    "badge.awarded",
    "level.up",
    "conversion.requested",
    "conversion.decided",
    "document.uploaded",
    "document.shared",
    "document.signed",
    "member.invited",
    "member.joined",
    "member.removed",
    "chat.message",
];

/// The longest endpoint URL.
pub const MAX_URL_CHARS: usize = 2000;
/// The most rooms an endpoint filters chat messages by.
pub const MAX_ROOMS: usize = 100;

/// An endpoint's event types: known ones or `*`, at least one, each once, sorted.
pub fn events(given: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for e in given {
        if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
            return refuse(
                "events",
                format!("unknown event {e:?}: one of *, {}", EVENT_TYPES.join(", ")),
            );
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if out.is_empty() {
        return refuse("events", "at least one event type, or *");
    }
    out.sort();
    Ok(out)
}

/// Whether an endpoint subscribed to `events`, filtering chat by `rooms` (none: every room),
/// hears `event` (in `room`, for a chat message).
pub fn hears(events: &[String], rooms: Option<&[String]>, event: &str, room: Option<&str>) -> bool {
    let subscribed = events.iter().any(|e| e == "*" || e == event);
    let in_room = match (rooms, room) {
        (Some(rooms), Some(room)) => rooms.iter().any(|r| r == room),
        _ => true,
    };
    subscribed && in_room
}

/// The URL an endpoint is called at: `http(s)://…`, with no user info (a secret in a URL ends
/// up in logs).
pub fn target(value: &str) -> Result<String, FieldError> {
    let value = url("url", value, MAX_URL_CHARS)?;
    let authority = value
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    if authority.contains('@') {
        return refuse("url", "no user or password in the URL");
    }
    Ok(value)
}

/// Whether the hub may call `ip` when private targets are refused: not loopback, private
/// (RFC 1918, unique local), link-local, carrier-grade NAT, unspecified, multicast, broadcast
/// or documentation space, nor an IPv4 address mapped into IPv6 that is one of those.
pub fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 0 && c == 2)
                || (a == 198 && (b == 18 || b == 19))
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// How long the `attempt`th failure (1 for the first) waits before the next try: `base`
/// doubled at each failure up to `max`, then a random part taken off (`jitter` in 0..1 takes
/// off up to half), so that endpoints failing together do not retry together.
pub fn retry_delay_ms(attempt: u32, base_ms: u64, max_ms: u64, jitter: f64) -> u64 {
    let doubled = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(62));
    let full = doubled.min(max_ms);
    let off = (full as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64;
    full - off
}

/// Whether a delivery is given up (dead-lettered) after `attempts` failures, `age_ms` after
/// it was made.
pub fn given_up(attempts: u32, max_attempts: u32, age_ms: i64, max_age_ms: i64) -> bool {
    attempts >= max_attempts || age_ms >= max_age_ms
}

/// A signing secret as the Standard Webhooks specification writes it: `whsec_` then base64 of
/// 24 to 64 random bytes. Returns the base64 part.
pub fn secret(value: &str) -> Result<&str, FieldError> {
    let Some(b64) = value.strip_prefix("whsec_") else {
        return refuse("secret", "must start with whsec_");
    };
    let ok_chars = b64
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    // 24 bytes are 32 base64 characters, 64 bytes 88.
    if !ok_chars || !(32..=88).contains(&b64.len()) || b64.len() % 4 != 0 {
        return refuse("secret", "whsec_ then the base64 of 24 to 64 bytes");
    }
    Ok(b64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn event_lists_are_checked_sorted_and_kept_once() {
        assert_eq!(
            events(&strings(&[
                "member.joined",
                "badge.awarded",
                "member.joined"
            ]))
            .unwrap(),
            strings(&["badge.awarded", "member.joined"])
        );
        assert_eq!(events(&strings(&["*"])).unwrap(), strings(&["*"]));
        assert!(events(&[]).is_err());
        assert!(events(&strings(&["task.eaten"])).is_err());
    }

    #[test]
    fn who_hears_what() {
        let all = strings(&["*"]);
        let chat = strings(&["chat.message"]);
        let rooms = strings(&["venture:a"]);
        for (events, rooms, event, room, heard) in [
            (&all, None, "badge.awarded", None, true),
            (&chat, None, "badge.awarded", None, false),
            (&chat, None, "chat.message", Some("team:t"), true),
            (&chat, Some(&rooms), "chat.message", Some("venture:a"), true),
            (
                &chat,
                Some(&rooms),
                "chat.message",
                Some("venture:b"),
                false,
            ),
            (&all, Some(&rooms), "member.joined", None, true),
        ] {
            assert_eq!(
                hears(events, rooms.map(|r| r.as_slice()), event, room),
                heard,
                "{events:?} {rooms:?} {event} {room:?}"
            );
        }
    }

    #[test]
    fn targets_are_http_urls_without_credentials() {
        assert_eq!(
            target(" https://hooks.example.com/in?x=1 ").unwrap(),
            "https://hooks.example.com/in?x=1"
        );
        assert!(target("ftp://example.com").is_err());
        assert!(target("https://user:pw@example.com/").is_err());
        assert!(target("https://example.com/path@x").is_ok());
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for (ip, public) in [
            ("8.8.8.8", true),
            ("93.184.216.34", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("172.32.0.1", true),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("100.128.0.1", true),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("192.0.2.1", false),
            ("::1", false),
            ("::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("2001:db8::1", false),
            ("2606:4700::1111", true),
        ] {
            assert_eq!(public_ip(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn retries_double_up_to_the_cap_less_their_jitter() {
        // base 1 s, cap 60 s: 1, 2, 4, 8, 16, 32, 60, 60 s with no jitter.
        let no_jitter: Vec<u64> = (1..=8)
            .map(|n| retry_delay_ms(n, 1000, 60_000, 0.0))
            .collect();
        assert_eq!(
            no_jitter,
            [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
        );
        // Full jitter takes off half: 500 ms, 30 s.
        assert_eq!(retry_delay_ms(1, 1000, 60_000, 1.0), 500);
        assert_eq!(retry_delay_ms(9, 1000, 60_000, 1.0), 30_000);
        assert_eq!(retry_delay_ms(3, 1000, 60_000, 0.5), 3000);
        // A huge attempt count neither overflows nor passes the cap.
        assert_eq!(retry_delay_ms(500, 1000, 3_600_000, 0.0), 3_600_000);
    }

    #[test]
    fn deliveries_are_given_up_by_tries_or_age() {
        let day = 86_400_000;
        assert!(!given_up(14, 15, day, 3 * day));
        assert!(given_up(15, 15, day, 3 * day));
        assert!(given_up(1, 15, 3 * day, 3 * day));
    }

    #[test]
    fn secrets_follow_the_standard() {
        let ok = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(secret(ok).unwrap(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(secret("whsec_short").is_err());
        assert!(secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w").is_err());
    }
}
