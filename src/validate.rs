//! Checks on text that arrives from the network, shared by every transport.
//!
//! NUL: Postgres cannot store U+0000 in text, SQLite can; so that both backends answer alike,
//! a NUL anywhere in a request's JSON, path or event payload is refused as `invalid` at the
//! edge, before anything is stored.

/// The message every NUL refusal carries.
pub const NUL_REFUSED: &str = "text must not contain the NUL character (\\u0000)";

/// True when JSON text `raw` holds a NUL in a string. In valid JSON a NUL can only be written
/// as the escape `\u0000` (raw control characters are not allowed in strings), so this scans
/// for that escape, skipping escaped backslashes (`\\u0000` is a backslash and `u0000`).
pub fn json_has_nul(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if bytes.contains(&0) {
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            // Skip the escaped character, whatever it is.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// True when plain (already decoded) text holds a NUL.
pub fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_and_escaped_backslashes_are_not() {
        for (raw, nul) in [
            (r#"{"a":"x\u0000y"}"#, true),
            (r#"["ev",{"body":"\u0000"}]"#, true),
            (r#"{"a\u0000":1}"#, true),
            (r#"{"a":"\\u0000"}"#, false),
            (r#"{"a":"\\\u0000"}"#, true),
            (r#"{"a":"\u00001"}"#, true),
            (r#"{"a":"\u0001"}"#, false),
            (r#"{"a":"plain"}"#, false),
            ("\"a\0\"", true),
            (r#"{"a":"ends with \\"}"#, false),
            (r#"\"#, false),
        ] {
            assert_eq!(json_has_nul(raw), nul, "{raw}");
            // The scan agrees with what serde_json decodes, for valid JSON.
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
                assert_eq!(value_has_nul(&v), nul, "{raw}");
            }
        }
        assert!(has_nul("a\0b") && !has_nul("ab"));
    }

    fn value_has_nul(v: &serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => has_nul(s),
            Value::Array(a) => a.iter().any(value_has_nul),
            Value::Object(o) => o.iter().any(|(k, v)| has_nul(k) || value_has_nul(v)),
            _ => false,
        }
    }
}
