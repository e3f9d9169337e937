//! The rules of uploaded files (`files` in code, `/api/v1/documents` on the wire): which content
//! types are accepted (declared and sniffed from the first bytes), names, byte ranges, shares,
//! clients and comments.

use crate::fields::{FieldError, refuse, required_text, text};

/// Bytes looked at to recognise a file's type.
pub const SNIFF_BYTES: usize = 512;

/// The content types accepted by default.
pub const DEFAULT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
];

/// A declared content type without its parameters, lowercased (`text/plain; charset=utf-8` is
/// `text/plain`).
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `head` (the first bytes of a file) looks like `content_type`: the magic numbers of
/// binary formats, and for text types valid UTF-8 without NUL (a multi-byte character cut at
/// the end of `head` is allowed).
pub fn sniff_matches(content_type: &str, head: &[u8]) -> bool {
    match content_type {
        "application/pdf" => head.starts_with(b"%PDF-"),
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => head.starts_with(b"\xFF\xD8\xFF"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
        "application/zip"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.oasis.opendocument.text" => head.starts_with(b"PK\x03\x04"),
        t if is_text_type(t) => looks_like_text(head),
        _ => false,
    }
}

/// Whether files of type `essence` are text, and so checked whole (see [`TextCheck`]).
pub fn is_text_type(essence: &str) -> bool {
    essence.starts_with("text/") || essence == "application/json"
}

/// Checks that a file, given chunk by chunk, is UTF-8 without NUL from its first byte to its
/// last: a character may be split between chunks, never cut at the end.
#[derive(Debug, Default)]
pub struct TextCheck {
    /// The first bytes of a character whose rest is in the next chunk.
    partial: Vec<u8>,
}

impl TextCheck {
    /// Takes the next chunk; false once the file is not text.
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        if chunk.contains(&0) {
            return false;
        }
        let mut rest = chunk;
        if let Some(&lead) = self.partial.first() {
            let width = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => return false,
            };
            let take = (width - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() < width {
                return true;
            }
            if std::str::from_utf8(&self.partial).is_err() {
                return false;
            }
            self.partial.clear();
        }
        match std::str::from_utf8(rest) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                self.partial.extend_from_slice(&rest[e.valid_up_to()..]);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the file ended on a whole character.
    pub fn finish(&self) -> bool {
        self.partial.is_empty()
    }
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // A character cut by the end of the sniffed bytes.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// Checks an upload's declared type against the allowlist: its essence when accepted.
pub fn check_declared(declared: &str, allowed: &[String]) -> Result<String, FieldError> {
    let t = essence(declared);
    if !allowed.iter().any(|a| *a == t) {
        return refuse(
            "file",
            format!(
                "the content type {t:?} is not accepted; accepted: {}",
                allowed.join(", ")
            ),
        );
    }
    Ok(t)
}

/// Checks an upload's declared type against the allowlist and its first bytes.
pub fn check_type(declared: &str, allowed: &[String], head: &[u8]) -> Result<String, FieldError> {
    let t = check_declared(declared, allowed)?;
    if !sniff_matches(&t, head) {
        return refuse("file", format!("the file's first bytes are not {t}"));
    }
    Ok(t)
}

/// Characters that reorder or hide text without showing themselves: bidirectional embeddings,
/// overrides and isolates, directional marks, zero-width characters, line and paragraph
/// separators and the byte-order mark. In a name, `invoice\u{202E}fdp.exe` shows as
/// `invoiceexe.pdf`.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

/// A file name as kept: the last path component, control, bidirectional and invisible format
/// characters and quotes removed, at most 200 characters; `file` when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c) && *c != '"')
        .take(200)
        .collect();
    let kept = kept.trim().to_owned();
    if kept.is_empty() || kept == "." || kept == ".." {
        "file".to_owned()
    } else {
        kept
    }
}

/// A document's title (1–200 characters) and type (1–40 characters of `a-z`, `0-9`, `_`, `-`:
/// `contract`, `invoice`, `nda`, …).
pub fn check_meta(title: &str, kind: &str) -> Result<(String, String), FieldError> {
    let title = required_text("title", title, 200)?;
    let kind = kind.trim().to_ascii_lowercase();
    if kind.is_empty()
        || kind.len() > 40
        || !kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return refuse("type", "1 to 40 characters of a-z, 0-9, _ and -");
    }
    Ok((title, kind))
}

/// A byte range of a file of `size` bytes, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// Never 0: a range holds at least its first byte.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// No range, several ranges or another unit: the whole file.
    Whole,
    One(ByteRange),
    /// A single range that lies outside the file (416).
    Unsatisfiable,
}

/// Parses a `Range` header (`bytes=0-99`, `bytes=100-`, `bytes=-50`) against `size`.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Unsatisfiable;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (true, false) => b.parse::<u64>().ok().map(|n| {
            let n = n.min(size);
            (size.saturating_sub(n), size.saturating_sub(1), n > 0)
        }),
        (false, true) => a
            .parse::<u64>()
            .ok()
            .map(|s| (s, size.saturating_sub(1), true)),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)), true)),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        Some((start, end, true)) if size > 0 && start < size && start <= end => {
            RangeAsk::One(ByteRange { start, end })
        }
        _ => RangeAsk::Unsatisfiable,
    }
}

/// The UTF-8 message a signature covers (format `v2`): it names the request and the signer, so
/// a signature made for one request or one signer verifies for no other.
pub fn signature_message(
    request_id: &str,
    document_id: &str,
    checksum_sha256: &str,
    signer_id: &str,
) -> String {
    format!("hub-signature:v2:{document_id}:{checksum_sha256}:{request_id}:{signer_id}")
}

/// The message of format `v1`, which named only the document and its checksum. Signatures made
/// before `v2` keep it and still verify; no new request uses it.
pub fn signature_message_v1(document_id: &str, checksum_sha256: &str) -> String {
    format!("hub-signature:v1:{document_id}:{checksum_sha256}")
}

/// Whether `message`, stored with a request, is what that request's format prescribes.
pub fn is_signature_message(
    message: &str,
    request_id: &str,
    document_id: &str,
    checksum_sha256: &str,
    signer_id: &str,
) -> bool {
    message == signature_message(request_id, document_id, checksum_sha256, signer_id)
        || message == signature_message_v1(document_id, checksum_sha256)
}

/// A share's target: exactly one of a user or a client.
pub fn check_share_target(to_user: Option<&str>, client: Option<&str>) -> Result<(), FieldError> {
    match (to_user, client) {
        (Some(_), None) | (None, Some(_)) => Ok(()),
        _ => refuse("to_user_id", "give exactly one of to_user_id and client_id"),
    }
}

/// A checked client: name, email, phone, organization, tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientFields {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization: Option<String>,
    pub tags: Vec<String>,
}

pub const MAX_TAGS: usize = 20;

pub fn check_client(
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    organization: Option<&str>,
    tags: &[String],
) -> Result<ClientFields, FieldError> {
    let name = required_text("name", name, 120)?;
    let opt = |field: &str, v: Option<&str>, max: usize| -> Result<Option<String>, FieldError> {
        match v {
            None => Ok(None),
            Some(v) => Ok(Some(text(field, v, max, false)?).filter(|s| !s.is_empty())),
        }
    };
    let email = opt("email", email, 120)?;
    if let Some(e) = &email {
        let ok = e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !e.contains(' ')
        });
        if !ok {
            return refuse("email", "must be an email address");
        }
    }
    let phone = opt("phone", phone, 40)?;
    if let Some(p) = &phone
        && !p
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return refuse("phone", "digits, spaces and + - ( ) . only");
    }
    let organization = opt("organization", organization, 120)?;
    if tags.len() > MAX_TAGS {
        return refuse("tags", format!("at most {MAX_TAGS}"));
    }
    let mut clean = Vec::with_capacity(tags.len());
    for t in tags {
        let t = required_text("tags", t, 40)?;
        if !clean.contains(&t) {
            clean.push(t);
        }
    }
    Ok(ClientFields {
        name,
        email,
        phone,
        organization,
        tags: clean,
    })
}

/// A comment's body: 1 to 2000 characters, line breaks allowed.
pub fn check_comment(body: &str) -> Result<String, FieldError> {
    let body = text("body", body, 2000, true)?;
    if body.is_empty() {
        return refuse("body", "1 to 2000 characters");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        DEFAULT_TYPES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn types_are_checked_declared_and_sniffed() {
        let a = allowed();
        assert_eq!(
            check_type("application/pdf", &a, b"%PDF-1.7\n...").unwrap(),
            "application/pdf"
        );
        assert_eq!(
            check_type("Text/Plain; charset=utf-8", &a, "héllo".as_bytes()).unwrap(),
            "text/plain"
        );
        assert!(check_type("image/png", &a, b"\x89PNG\r\n\x1a\n....").is_ok());
        assert!(check_type("image/webp", &a, b"RIFF\x10\0\0\0WEBPVP8 ").is_ok());
        // Declared but not what the bytes say.
        assert!(check_type("application/pdf", &a, b"MZ\x90\0").is_err());
        assert!(check_type("text/plain", &a, b"bin\0ary").is_err());
        assert!(check_type("image/png", &a, b"%PDF-").is_err());
        // Not on the list at all.
        assert_eq!(
            check_type("application/x-msdownload", &a, b"MZ")
                .unwrap_err()
                .field,
            "file"
        );
        // A character cut at the end of the sniffed bytes is still text; invalid UTF-8 is not.
        let cut = &"aé".as_bytes()[..2];
        assert!(sniff_matches("text/plain", cut));
        assert!(!sniff_matches("text/plain", b"\xff\xfe"));
    }

    #[test]
    fn names_and_meta() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\docs\\a \"b\".pdf"), "a b.pdf");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name(""), "file");
        assert_eq!(clean_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            clean_file_name("a\u{2066}b\u{200F}c\u{200B}d\u{FEFF}\u{0007}\ne.txt"),
            "abcde.txt"
        );
        assert_eq!(clean_file_name("\u{202E}\u{202C}"), "file");
        assert_eq!(clean_file_name("Zoë résumé.pdf"), "Zoë résumé.pdf");
        assert_eq!(
            check_meta(" NDA ", "Contract").unwrap(),
            ("NDA".into(), "contract".into())
        );
        assert_eq!(check_meta("", "x").unwrap_err().field, "title");
        assert_eq!(check_meta("t", "a b").unwrap_err().field, "type");
    }

    #[test]
    fn ranges() {
        use RangeAsk::*;
        let r = |s, e| One(ByteRange { start: s, end: e });
        assert_eq!(parse_range(None, 100), Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), r(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), r(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), r(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), r(0, 99));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), r(50, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=x-y"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Whole);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(r(0, 9), One(ByteRange { start: 0, end: 9 }));
        assert_eq!(ByteRange { start: 5, end: 9 }.len(), 5);
    }

    #[test]
    fn clients_and_shares() {
        let c = check_client(
            " Ada ",
            Some("ada@lovelace.org"),
            Some("+44 20 1234"),
            None,
            &["vip".into(), "vip".into()],
        )
        .unwrap();
        assert_eq!((c.name.as_str(), c.tags.len()), ("Ada", 1));
        for (email, phone, field) in [
            (Some("nope"), None, "email"),
            (Some("a@b"), None, "email"),
            (None, Some("call me"), "phone"),
        ] {
            assert_eq!(
                check_client("A", email, phone, None, &[])
                    .unwrap_err()
                    .field,
                field
            );
        }
        assert_eq!(
            check_client(&"n".repeat(121), None, None, None, &[])
                .unwrap_err()
                .field,
            "name"
        );
        assert_eq!(
            check_client("A", None, None, Some(&"o".repeat(121)), &[])
                .unwrap_err()
                .field,
            "organization"
        );
        assert_eq!(
            check_client("A", None, Some(&"1".repeat(41)), None, &[])
                .unwrap_err()
                .field,
            "phone"
        );
        assert!(check_share_target(Some("bob"), None).is_ok());
        assert!(check_share_target(None, Some("c1")).is_ok());
        assert!(check_share_target(None, None).is_err());
        assert!(check_share_target(Some("bob"), Some("c1")).is_err());
        assert_eq!(
            signature_message("s1", "d1", "ab", "bob"),
            "hub-signature:v2:d1:ab:s1:bob"
        );
        assert_eq!(signature_message_v1("d1", "ab"), "hub-signature:v1:d1:ab");
        assert!(is_signature_message(
            "hub-signature:v1:d1:ab",
            "s1",
            "d1",
            "ab",
            "bob"
        ));
        assert!(is_signature_message(
            "hub-signature:v2:d1:ab:s1:bob",
            "s1",
            "d1",
            "ab",
            "bob"
        ));
        assert!(!is_signature_message(
            "hub-signature:v2:d1:ab:s1:eve",
            "s1",
            "d1",
            "ab",
            "bob"
        ));
        assert!(!is_signature_message(
            "hub-signature:v2:d1:ab:s2:bob",
            "s1",
            "d1",
            "ab",
            "bob"
        ));
        assert!(check_comment("").is_err());
        assert!(check_comment(&"c".repeat(2001)).is_err());
        assert_eq!(check_comment(" ok\nfine ").unwrap(), "ok\nfine");
    }

    #[test]
    fn text_is_checked_whole_across_chunks() {
        // (chunks, is text)
        let e = "é".as_bytes(); // [0xC3, 0xA9]
        let euro = "€".as_bytes(); // 3 bytes
        let table: Vec<(Vec<&[u8]>, bool)> = vec![
            (vec![b"plain", b" text"], true),
            (vec![&e[..1], &e[1..]], true),
            (vec![&euro[..1], &euro[1..2], &euro[2..]], true),
            (vec![b"abc", &euro[..2]], false), // cut at the end
            (vec![b"abc", b"d\0e"], false),
            (vec![b"ok", &[0xFF]], false),
            (vec![&e[..1], b"x"], false), // a lead byte followed by ASCII
            (vec![&[0x80]], false),
        ];
        for (chunks, text) in table {
            let mut check = TextCheck::default();
            let pushed = chunks.iter().all(|c| check.push(c));
            assert_eq!(pushed && check.finish(), text, "{chunks:?}");
        }
    }
}
