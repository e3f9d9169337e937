//! Field checks shared by the REST rules: a refusal names the field, and the helpers check the
//! common shapes (bounded text, http(s) URLs, one of a set, a number in a range).

/// A field out of its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A refusal of `field`.
pub fn refuse<T>(field: &str, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError::new(field, message))
}

/// `value` trimmed, at most `max` characters, without control characters (line breaks are
/// allowed where `multiline`).
pub fn text(field: &str, value: &str, max: usize, multiline: bool) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return refuse(field, format!("at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return refuse(field, "no control characters");
    }
    Ok(value.to_owned())
}

/// Like [`text`], and not empty.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = text(field, value, max, false)?;
    if value.is_empty() {
        return refuse(field, format!("1 to {max} characters"));
    }
    Ok(value)
}

/// An absolute `http` or `https` URL of at most `max` characters, with a host.
pub fn url(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return refuse(field, format!("at most {max} characters"));
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && !value.chars().any(|c| c.is_control() || c.is_whitespace()) => {
            Ok(value.to_owned())
        }
        _ => refuse(field, "must be an http:// or https:// URL"),
    }
}

pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), FieldError> {
    if !allowed.contains(&value) {
        return refuse(field, format!("must be one of {}", allowed.join(", ")));
    }
    Ok(())
}

/// A finite number in `lo..=hi`.
pub fn range(field: &str, value: f64, lo: f64, hi: f64) -> Result<(), FieldError> {
    if !value.is_finite() || value < lo || value > hi {
        return refuse(field, format!("must be between {lo} and {hi}, got {value}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        for good in ["https://a.io", "http://x.y/z?q=1", "https://h:8080/p#f"] {
            assert_eq!(url("u", good, 200).unwrap(), good);
        }
        for bad in [
            "ftp://a.io",
            "https://",
            "https:///path",
            "javascript:alert(1)",
            "https://a b",
            "a.io",
        ] {
            assert_eq!(url("u", bad, 200).unwrap_err().field, "u", "{bad}");
        }
        assert!(url("u", &format!("https://{}", "a".repeat(193)), 200).is_err());
        assert!(url("u", &format!("https://{}", "a".repeat(192)), 200).is_ok());
    }

    #[test]
    fn text_is_trimmed_bounded_and_clean() {
        assert_eq!(text("t", "  hi  ", 2, false).unwrap(), "hi");
        assert!(text("t", "abc", 2, false).is_err());
        assert!(text("t", "a\nb", 5, false).is_err());
        assert_eq!(text("t", "a\nb", 5, true).unwrap(), "a\nb");
        assert!(text("t", "a\u{0}b", 5, true).is_err());
        assert!(required_text("t", "   ", 5).is_err());
        // Characters, not bytes.
        assert!(text("t", "ééé", 3, false).is_ok());
    }
}
