//! Bounded reading of y-protocols frames and Yjs v1 updates, before yrs decodes them.
//!
//! yrs reserves room for as many entries as a count in the input says (`try_reserve(len)` on
//! clients, blocks, state vectors, awareness states, `Any` arrays and maps), and a reservation of
//! billions of entries succeeds on a machine that overcommits: a 500-byte update made the hub
//! touch gigabytes. This module walks the same grammar yrs reads, without allocating, and refuses
//! a message where any count could not be met by the bytes that are left (every entry takes at
//! least one byte, most take two or three), where nesting is deeper than [`MAX_DEPTH`], or where
//! a byte does not fit the grammar. What passes costs yrs at most a small multiple of its size.
//!
//! The grammar is yrs 0.28's v1 decoder (`Update::decode`, `ItemContent::decode`,
//! `Any::decode`, `IdSet::decode`, `StateVector::decode`, `AwarenessUpdate::decode`,
//! `Message::decode`). Subdocuments (content 9) are refused: each would build a whole `Doc`
//! from a few bytes, and the hub does not serve them.
//!
//! Invariant: for every input this module accepts, each count yrs reserves for is at most the
//! number of input bytes left at that point divided by the smallest encoding of one entry.

use thiserror::Error;

/// Deepest nesting of `Any` values (arrays and maps in maps) accepted. yrs decodes them
/// recursively, so an unbounded depth is also a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// The v1 encoding of an update that changes nothing (no clients, no deletions).
pub const EMPTY_UPDATE: [u8; 2] = [0, 0];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("the message ends early")]
    Truncated,
    #[error("{what} says {count} entries, more than the {left} bytes left can hold")]
    CountTooLarge {
        what: &'static str,
        count: u64,
        left: usize,
    },
    #[error("a variable-length integer is too long")]
    VarInt,
    #[error("values nest deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("unexpected {what} {value}")]
    Unexpected { what: &'static str, value: u64 },
    #[error("subdocuments are not supported")]
    Subdocument,
}

/// One message of a frame, as far as the hub needs to know before decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Sync step 1 (its state vector has been checked).
    Step1,
    /// Sync step 2, with its update, not yet checked.
    Step2(&'a [u8]),
    /// A document update, not yet checked.
    Update(&'a [u8]),
    /// An awareness update (checked).
    Awareness,
    Auth,
    AwarenessQuery,
    /// A message type the hub does not speak.
    Custom(u8),
}

impl Part<'_> {
    /// The document update this message carries, if it is step 2 or an update.
    pub fn update(&self) -> Option<&[u8]> {
        match self {
            Part::Step2(u) | Part::Update(u) => Some(u),
            _ => None,
        }
    }
}

/// Splits a frame into its messages, checking state vectors and awareness updates in full
/// (the updates of step 2 and update messages are left to [`check_update`], so a read-only
/// connection's update can be refused without reading it).
pub fn scan_frame(frame: &[u8]) -> Result<Vec<Part<'_>>, WireError> {
    let mut r = Reader::new(frame);
    let mut parts = Vec::new();
    while !r.is_empty() {
        let part = match r.var()? {
            0 => match r.var()? {
                0 => {
                    check_state_vector(r.buf()?)?;
                    Part::Step1
                }
                1 => Part::Step2(r.buf()?),
                2 => Part::Update(r.buf()?),
                other => {
                    return Err(WireError::Unexpected {
                        what: "sync message type",
                        value: other,
                    });
                }
            },
            1 => {
                check_awareness(r.buf()?)?;
                Part::Awareness
            }
            2 => {
                if r.var()? == 0 {
                    r.buf()?;
                }
                Part::Auth
            }
            3 => Part::AwarenessQuery,
            tag => {
                r.buf()?;
                Part::Custom(tag.min(255) as u8)
            }
        };
        parts.push(part);
    }
    Ok(parts)
}

/// Checks a v1 state vector: `count`, then `count` × (client, clock).
pub fn check_state_vector(bytes: &[u8]) -> Result<(), WireError> {
    let mut r = Reader::new(bytes);
    let count = r.count("a state vector", 2)?;
    for _ in 0..count {
        r.var()?;
        r.var()?;
    }
    r.end()
}

/// Checks a v1 awareness update: `count`, then `count` × (client, clock, JSON string).
pub fn check_awareness(bytes: &[u8]) -> Result<(), WireError> {
    let mut r = Reader::new(bytes);
    let count = r.count("an awareness update", 3)?;
    for _ in 0..count {
        r.var()?;
        r.var()?;
        r.buf()?;
    }
    r.end()
}

/// Checks a v1 document update: its blocks by client, then its delete set.
pub fn check_update(bytes: &[u8]) -> Result<(), WireError> {
    let mut r = Reader::new(bytes);
    // Each client: block count, client id, first clock; each block: at least two bytes.
    let clients = r.count("an update's client list", 3)?;
    for _ in 0..clients {
        let blocks = r.var()?;
        r.var()?;
        r.var()?;
        r.check_count("a client's block list", blocks, 2)?;
        for _ in 0..blocks {
            block(&mut r)?;
        }
    }
    // The delete set: per client, its id and ranges (clock, length).
    let clients = r.count("a delete set", 2)?;
    for _ in 0..clients {
        r.var()?;
        let ranges = r.count("a delete set's ranges", 2)?;
        for _ in 0..ranges {
            r.var()?;
            r.var()?;
        }
    }
    r.end()
}

const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;

fn block(r: &mut Reader<'_>) -> Result<(), WireError> {
    let info = r.u8()?;
    // 10: skip, 0: GC; both a length.
    if info == 10 || info == 0 {
        r.var()?;
        return Ok(());
    }
    if info & HAS_ORIGIN != 0 {
        r.var()?;
        r.var()?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        r.var()?;
        r.var()?;
    }
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        // The parent: a root type's name, or the id of the item that holds it.
        if r.var()? == 1 {
            r.buf()?;
        } else {
            r.var()?;
            r.var()?;
        }
        if info & HAS_PARENT_SUB != 0 {
            r.buf()?;
        }
    }
    content(r, info & 0b1111)
}

fn content(r: &mut Reader<'_>, kind: u8) -> Result<(), WireError> {
    match kind {
        // Deleted: a length.
        1 => {
            r.var()?;
        }
        // JSON: yrs reads one string more than the count says.
        2 => {
            let count = r.var()?;
            r.check_count("a JSON content", count.saturating_add(1), 1)?;
            for _ in 0..=count {
                r.buf()?;
            }
        }
        // Binary, string, embed (JSON text).
        3..=5 => {
            r.buf()?;
        }
        // Format: key and JSON text.
        6 => {
            r.buf()?;
            r.buf()?;
        }
        // A shared type; an XML element carries its tag name.
        7 => match r.u8()? {
            3 => {
                r.buf()?;
            }
            0..=2 | 4..=6 | 9 | 15 => {}
            other => {
                return Err(WireError::Unexpected {
                    what: "type",
                    value: other.into(),
                });
            }
        },
        // Any values.
        8 => {
            let count = r.count("an any content", 1)?;
            for _ in 0..count {
                any(r, 0)?;
            }
        }
        9 => return Err(WireError::Subdocument),
        other => {
            return Err(WireError::Unexpected {
                what: "content",
                value: other.into(),
            });
        }
    }
    Ok(())
}

fn any(r: &mut Reader<'_>, depth: usize) -> Result<(), WireError> {
    if depth >= MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    match r.u8()? {
        127 | 126 | 121 | 120 => {}
        125 => {
            r.var()?;
        }
        124 => r.skip(4)?,
        123 | 122 => r.skip(8)?,
        119 | 116 => {
            r.buf()?;
        }
        118 => {
            // Each entry: a key (at least its length byte) and a value (at least its tag).
            let count = r.count("a map", 2)?;
            for _ in 0..count {
                r.buf()?;
                any(r, depth + 1)?;
            }
        }
        117 => {
            let count = r.count("an array", 1)?;
            for _ in 0..count {
                any(r, depth + 1)?;
            }
        }
        other => {
            return Err(WireError::Unexpected {
                what: "value tag",
                value: other.into(),
            });
        }
    }
    Ok(())
}

/// A cursor over bytes that never allocates.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn end(&self) -> Result<(), WireError> {
        // yrs ignores what follows a complete update; so do we (stock clients write none).
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        let (&b, rest) = self.bytes.split_first().ok_or(WireError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    /// A lib0 variable-length integer (unsigned, or signed: the same bytes are skipped).
    fn var(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f).checked_shl(7 * i).unwrap_or(0);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError::VarInt)
    }

    fn skip(&mut self, n: usize) -> Result<(), WireError> {
        if n > self.bytes.len() {
            return Err(WireError::Truncated);
        }
        self.bytes = &self.bytes[n..];
        Ok(())
    }

    /// A length-prefixed byte string.
    fn buf(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.var()?;
        if len > self.bytes.len() as u64 {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(len as usize);
        self.bytes = rest;
        Ok(head)
    }

    /// A count of entries that take at least `min_bytes` each.
    fn count(&mut self, what: &'static str, min_bytes: u64) -> Result<u64, WireError> {
        let count = self.var()?;
        self.check_count(what, count, min_bytes)?;
        Ok(count)
    }

    fn check_count(&self, what: &'static str, count: u64, min_bytes: u64) -> Result<(), WireError> {
        let left = self.bytes.len();
        if count.saturating_mul(min_bytes) > left as u64 {
            return Err(WireError::CountTooLarge { what, count, left });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::{Awareness, Message, SyncMessage};
    use yrs::updates::encoder::Encode;
    use yrs::{Array, Doc, Map, ReadTxn, StateVector, Text, Transact, XmlFragment};

    fn varu(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn rich_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("body");
        let map = doc.get_or_insert_map("meta");
        let array = doc.get_or_insert_array("list");
        let xml = doc.get_or_insert_xml_fragment("xml");
        {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "hello world");
            text.remove_range(&mut txn, 2, 3);
            text.format(
                &mut txn,
                0,
                2,
                [("bold".into(), yrs::Any::Bool(true))].into(),
            );
            map.insert(&mut txn, "n", 1.5);
            map.insert(&mut txn, "i", 42i64);
            map.insert(&mut txn, "s", "str");
            map.insert(&mut txn, "b", yrs::Any::Buffer(vec![1u8, 2, 3].into()));
            map.insert(
                &mut txn,
                "nested",
                yrs::Any::from(std::collections::HashMap::from([(
                    "k".to_string(),
                    yrs::Any::Array(vec![yrs::Any::Null, yrs::Any::Bool(false)].into()),
                )])),
            );
            array.insert_range(&mut txn, 0, [1i64, 2, 3]);
            array.remove(&mut txn, 1);
            xml.insert(&mut txn, 0, yrs::XmlElementPrelim::empty("p"));
            xml.insert(&mut txn, 1, yrs::XmlTextPrelim::new("x"));
            map.insert(&mut txn, "sub", yrs::MapPrelim::default());
        }
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn what_yrs_writes_passes() {
        let update = rich_update();
        check_update(&update).unwrap();
        check_update(&EMPTY_UPDATE).unwrap();
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "abc");
        let sv = doc.transact().state_vector();
        let frame = Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1();
        assert_eq!(scan_frame(&frame).unwrap(), vec![Part::Step1]);
        let mut awareness = Awareness::new(doc);
        awareness.set_local_state_raw(r#"{"user":"a"}"#);
        let frame = Message::Awareness(awareness.update().unwrap()).encode_v1();
        assert_eq!(scan_frame(&frame).unwrap(), vec![Part::Awareness]);
        let frame = Message::Sync(SyncMessage::Update(update.clone())).encode_v1();
        assert_eq!(scan_frame(&frame).unwrap(), vec![Part::Update(&update)]);
    }

    #[test]
    fn a_count_larger_than_the_bytes_left_is_refused() {
        // 2^32 - 1 clients in a 500-byte update.
        let mut update = Vec::new();
        varu(u32::MAX as u64, &mut update);
        update.resize(500, 0);
        assert!(matches!(
            check_update(&update),
            Err(WireError::CountTooLarge { .. })
        ));
        // One client whose block count is huge.
        let mut update = vec![1];
        varu(u32::MAX as u64, &mut update);
        update.extend([1, 0]);
        update.resize(500, 0);
        assert!(matches!(
            check_update(&update),
            Err(WireError::CountTooLarge { .. })
        ));
        // A state vector and an awareness update with huge counts.
        let mut sv = Vec::new();
        varu(u32::MAX as u64, &mut sv);
        assert!(check_state_vector(&sv).is_err());
        let mut aw = Vec::new();
        varu(1 << 40, &mut aw);
        assert!(check_awareness(&aw).is_err());
    }

    #[test]
    fn a_huge_any_array_deep_inside_is_refused() {
        // One client, one block: info 8 (any), parent named "t", one value: an array of 2^31.
        let mut update = vec![1, 1, 1, 0, 8, 1, 1, b't', 1, 117];
        varu(1 << 31, &mut update);
        update.extend([0; 16]);
        assert!(matches!(
            check_update(&update),
            Err(WireError::CountTooLarge {
                what: "an array",
                ..
            })
        ));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut update = vec![1, 1, 1, 0, 8, 1, 1, b't', 1];
        for _ in 0..MAX_DEPTH + 1 {
            update.extend([117, 1]);
        }
        update.push(126);
        update.extend([0]);
        assert_eq!(check_update(&update), Err(WireError::TooDeep));
    }

    #[test]
    fn subdocuments_and_unknown_content_are_refused() {
        let doc = Doc::with_client_id(3);
        let map = doc.get_or_insert_map("m");
        map.insert(&mut doc.transact_mut(), "d", Doc::new());
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert_eq!(check_update(&update), Err(WireError::Subdocument));
        let update = vec![1, 1, 1, 0, 12, 1, 1, b't', 0];
        assert!(matches!(
            check_update(&update),
            Err(WireError::Unexpected {
                what: "content",
                ..
            })
        ));
    }

    #[test]
    fn truncated_input_is_refused_at_every_cut() {
        let update = rich_update();
        for cut in 0..update.len() {
            assert!(check_update(&update[..cut]).is_err(), "cut at {cut}");
        }
    }

    proptest::proptest! {
        /// Whatever the bytes, what passes decodes in yrs with at most a bounded allocation,
        /// and nothing panics here.
        #[test]
        fn random_bytes_never_pass_a_huge_count(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = scan_frame(&bytes);
            if check_update(&bytes).is_ok() {
                let _ = yrs::Update::decode_v1(&bytes);
            }
        }
    }

    use yrs::updates::decoder::Decode;
}
