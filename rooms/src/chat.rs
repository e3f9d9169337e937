//! Chat rules: message and reaction limits, mentions, the per-user send rate, history paging.

use crate::rate::TokenBucket;
use hub_protocol::UserId;
use std::collections::HashMap;
use std::time::Instant;

pub const DEFAULT_MAX_BODY_CHARS: usize = 4000;
pub const MAX_CLIENT_ID_LEN: usize = 128;
pub const MAX_EMOJI_CHARS: usize = 32;
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
pub const MAX_HISTORY_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("body must not be empty")]
    EmptyBody,
    #[error("body is longer than {0} characters")]
    BodyTooLong(usize),
    #[error("client_id must be 1 to 128 characters without control characters")]
    BadClientId,
    #[error("emoji must be 1 to 32 characters without spaces")]
    BadEmoji,
    #[error("limit must be between 1 and 100")]
    BadLimit,
    #[error("give either before or after, not both")]
    BothBounds,
}

/// Checks a message body; returns it with trailing whitespace trimmed.
pub fn check_body(body: &str, max_chars: usize) -> Result<&str, ChatError> {
    let body = body.trim_end();
    if body.trim().is_empty() {
        return Err(ChatError::EmptyBody);
    }
    if body.chars().count() > max_chars {
        return Err(ChatError::BodyTooLong(max_chars));
    }
    Ok(body)
}

pub fn check_client_id(id: &str) -> Result<(), ChatError> {
    if id.is_empty() || id.len() > MAX_CLIENT_ID_LEN || id.chars().any(char::is_control) {
        return Err(ChatError::BadClientId);
    }
    Ok(())
}

pub fn check_emoji(emoji: &str) -> Result<(), ChatError> {
    let n = emoji.chars().count();
    if n == 0 || n > MAX_EMOJI_CHARS || emoji.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ChatError::BadEmoji);
    }
    Ok(())
}

/// The page size of a history request.
pub fn history_limit(limit: Option<u32>) -> Result<u32, ChatError> {
    match limit {
        None => Ok(DEFAULT_HISTORY_LIMIT),
        Some(n) if (1..=MAX_HISTORY_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ChatError::BadLimit),
    }
}

/// The members a body mentions: `@{user_id}` names a member by id; `@word` names a member whose
/// id or display name (without spaces, any case) is `word`. The author is never mentioned.
pub fn mentions<'a>(
    body: &str,
    members: &'a [(UserId, String)],
    author: &UserId,
) -> Vec<&'a UserId> {
    let mut found: Vec<&UserId> = Vec::new();
    let mut push = |u: &'a UserId| {
        if u != author && !found.contains(&u) {
            found.push(u);
        }
    };
    let mut rest = body;
    while let Some(at) = rest.find('@') {
        // `@` inside a word (an e-mail address) is not a mention.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 1..];
        if before.is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        if let Some(inner) = rest.strip_prefix('{') {
            if let Some(end) = inner.find('}') {
                let id = &inner[..end];
                if let Some((u, _)) = members.iter().find(|(u, _)| u.as_str() == id) {
                    push(u);
                }
            }
            continue;
        }
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        let word = word.trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        let lower = word.to_lowercase();
        for (u, name) in members {
            let squashed: String = name.chars().filter(|c| !c.is_whitespace()).collect();
            if u.as_str() == word || squashed.to_lowercase() == lower {
                push(u);
            }
        }
    }
    found
}

/// A token bucket per user: `burst` sends at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: u32,
    buckets: HashMap<UserId, TokenBucket>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimiter {
            per_second,
            burst: burst.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `user`; false when they are over the rate.
    pub fn allow(&mut self, user: &UserId, now: Instant) -> bool {
        let (rate, burst) = (self.per_second, self.burst);
        if self.buckets.len() > 100_000 {
            // Forget users whose bucket refilled entirely: they are as if new.
            self.buckets.retain(|_, b| !b.refilled(rate, burst, now));
        }
        self.buckets
            .entry(user.clone())
            .or_insert_with(|| TokenBucket::full(burst, now))
            .take(rate, burst, now)
    }

    /// Gives `user` back the token of a send that cost nothing (a retry of a committed one).
    pub fn refund(&mut self, user: &UserId) {
        if let Some(bucket) = self.buckets.get_mut(user) {
            bucket.refund(self.burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bodies_are_bounded_and_not_blank() {
        assert_eq!(check_body("hi  \n", 10), Ok("hi"));
        assert_eq!(check_body("  \n\t", 10), Err(ChatError::EmptyBody));
        assert_eq!(
            check_body(&"é".repeat(11), 10),
            Err(ChatError::BodyTooLong(10))
        );
        assert!(
            check_body(&"é".repeat(10), 10).is_ok(),
            "counted in characters, not bytes"
        );
    }

    #[test]
    fn ids_emoji_and_limits() {
        assert!(check_client_id("c-1").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id(&"x".repeat(129)).is_err());
        assert!(check_emoji("👍").is_ok());
        assert!(check_emoji(":tada:").is_ok());
        assert!(check_emoji("a b").is_err());
        assert!(check_emoji("").is_err());
        assert_eq!(history_limit(None), Ok(50));
        assert_eq!(history_limit(Some(100)), Ok(100));
        assert_eq!(history_limit(Some(0)), Err(ChatError::BadLimit));
        assert_eq!(history_limit(Some(101)), Err(ChatError::BadLimit));
    }

    #[test]
    fn mentions_by_name_or_id() {
        let members = vec![
            (UserId::from("u-alice"), "Alice Smith".to_string()),
            (UserId::from("u-bob"), "Bob".to_string()),
            (UserId::from("carol:x"), "Carol".to_string()),
        ];
        let author = UserId::from("u-bob");
        let ids = |body: &str| -> Vec<String> {
            mentions(body, &members, &author)
                .into_iter()
                .map(|u| u.0.clone())
                .collect()
        };
        assert_eq!(ids("hey @AliceSmith, look"), vec!["u-alice"]);
        assert_eq!(ids("@u-alice and @{carol:x}."), vec!["u-alice", "carol:x"]);
        assert_eq!(ids("@carol!"), vec!["carol:x"]);
        assert!(ids("mail bob@example.com").is_empty());
        assert!(
            ids("@Bob talking to myself").is_empty(),
            "the author is not mentioned"
        );
        assert!(ids("@nobody @ @{} @{unknown}").is_empty());
        assert_eq!(ids("@alicesmith @ALICESMITH"), vec!["u-alice"], "once");
    }

    #[test]
    fn rate_limit_allows_a_burst_then_the_rate() {
        let mut r = RateLimiter::new(2.0, 3);
        let u = UserId::from("u");
        let t0 = Instant::now();
        assert!((0..3).all(|_| r.allow(&u, t0)));
        assert!(!r.allow(&u, t0));
        assert!(r.allow(&u, t0 + Duration::from_millis(500)));
        assert!(!r.allow(&u, t0 + Duration::from_millis(500)));
        assert!(r.allow(&UserId::from("other"), t0), "per user");
    }
}
