//! Rules of the server API: what a publication's name, a disconnect's reason, an API key's name
//! and scopes, and a list of rooms may be.

use crate::fields::{FieldError, refuse, required_text, text};
use crate::room::RoomName;

/// The longest event name of a publication.
pub const MAX_EVENT_CHARS: usize = 64;
/// The most rooms one broadcast or one count request names.
pub const MAX_ROOMS: usize = 1000;
/// The longest reason told to a disconnected user.
pub const MAX_REASON_CHARS: usize = 200;
/// The longest API key name.
pub const MAX_KEY_NAME_CHARS: usize = 120;

/// A publication's event name: 1 to 64 of `A-Z a-z 0-9 : . _ -`.
pub fn event_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_EVENT_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        refuse(
            "event",
            format!("1 to {MAX_EVENT_CHARS} of A-Z a-z 0-9 : . _ -"),
        )
    }
}

/// The data of a publication, as JSON text: at most `max_bytes`.
pub fn data_size(json_len: usize, max_bytes: usize) -> Result<(), FieldError> {
    if json_len > max_bytes {
        return refuse(
            "data",
            format!("at most {max_bytes} bytes of JSON, got {json_len}"),
        );
    }
    Ok(())
}

/// The rooms of a broadcast or a count: 1 to [`MAX_ROOMS`] valid room names, each once (the
/// order kept).
pub fn rooms<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<RoomName>, FieldError> {
    let mut out: Vec<RoomName> = Vec::new();
    for name in names {
        if out.len() == MAX_ROOMS {
            return refuse("rooms", format!("1 to {MAX_ROOMS} rooms"));
        }
        let room: RoomName = name
            .parse()
            .map_err(|_| FieldError::new("rooms", format!("not a room: {name}")))?;
        if !out.contains(&room) {
            out.push(room);
        }
    }
    if out.is_empty() {
        return refuse("rooms", format!("1 to {MAX_ROOMS} rooms"));
    }
    Ok(out)
}

/// A disconnect's reason, or `default` when none is given.
pub fn reason(given: Option<&str>, default: &str) -> Result<String, FieldError> {
    let reason = text("reason", given.unwrap_or(""), MAX_REASON_CHARS, false)?;
    Ok(if reason.is_empty() {
        default.to_owned()
    } else {
        reason
    })
}

/// An API key's name.
pub fn key_name(name: &str) -> Result<String, FieldError> {
    required_text("name", name, MAX_KEY_NAME_CHARS)
}

/// An API key's scopes: at least one; each kept once, sorted.
pub fn scopes<T: Ord + Copy>(given: &[T]) -> Result<Vec<T>, FieldError> {
    let mut scopes = given.to_vec();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return refuse("scopes", "at least one scope");
    }
    Ok(scopes)
}

/// Whether a token issued at `issued_at` (Unix seconds, `None` when it says nothing) is still
/// good for a user whose tokens were revoked at `revoked_before` (Unix ms): only a token issued
/// in a later second is, since `iat` counts whole seconds.
pub fn issued_after(issued_at: Option<u64>, revoked_before: i64) -> bool {
    match issued_at {
        Some(secs) => i64::try_from(secs)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .is_some_and(|ms| ms > revoked_before),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        let long = "a".repeat(MAX_EVENT_CHARS);
        let too_long = "a".repeat(MAX_EVENT_CHARS + 1);
        for (name, ok) in [
            ("deal:closed", true),
            ("a", true),
            ("v1.order_paid-2", true),
            (long.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("with space", false),
            ("é", false),
            ("a/b", false),
        ] {
            assert_eq!(event_name(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn data_at_the_limit_passes_one_byte_more_does_not() {
        assert!(data_size(65_536, 65_536).is_ok());
        let e = data_size(65_537, 65_536).unwrap_err();
        assert_eq!(e.field, "data");
        assert_eq!(e.message, "at most 65536 bytes of JSON, got 65537");
    }

    #[test]
    fn rooms_are_checked_and_kept_once_in_order() {
        let got = rooms(["team:b", "venture:a", "team:b", "user:u"]).unwrap();
        let names: Vec<String> = got.iter().map(|r| r.to_string()).collect();
        assert_eq!(names, ["team:b", "venture:a", "user:u"]);
        assert_eq!(rooms([]).unwrap_err().field, "rooms");
        assert_eq!(rooms(["lobby"]).unwrap_err().message, "not a room: lobby");
        let many: Vec<String> = (0..=MAX_ROOMS).map(|i| format!("team:t{i}")).collect();
        assert!(rooms(many.iter().take(MAX_ROOMS).map(String::as_str)).is_ok());
        assert!(rooms(many.iter().map(String::as_str)).is_err());
    }

    #[test]
    fn reasons_default_and_are_bounded() {
        assert_eq!(reason(None, "disconnected").unwrap(), "disconnected");
        assert_eq!(reason(Some("  "), "x").unwrap(), "x");
        assert_eq!(reason(Some(" fraud "), "x").unwrap(), "fraud");
        assert!(reason(Some(&"r".repeat(MAX_REASON_CHARS + 1)), "x").is_err());
        assert!(reason(Some("a\u{0}b"), "x").is_err());
    }

    #[test]
    fn scopes_are_sorted_once_and_never_empty() {
        assert_eq!(scopes(&[3, 1, 3, 2]).unwrap(), vec![1, 2, 3]);
        assert!(scopes::<u8>(&[]).is_err());
        assert_eq!(key_name(" ops ").unwrap(), "ops");
        assert!(key_name("").is_err());
    }

    #[test]
    fn a_token_outlives_a_revocation_only_when_issued_in_a_later_second() {
        // Revoked at 10.500 s: a token of second 10 was (or may have been) issued before.
        for (iat, good) in [
            (Some(9), false),
            (Some(10), false),
            (Some(11), true),
            (None, false),
            (Some(u64::MAX), false),
        ] {
            assert_eq!(issued_after(iat, 10_500), good, "{iat:?}");
        }
        // Revoked exactly at 10.000 s: second 10 may hold tokens issued before it.
        assert!(!issued_after(Some(10), 10_000));
        assert!(issued_after(Some(11), 10_000));
    }
}
