//! The WORM audit chain's rules: the canonical encoding of an entry, its hash, and the walk
//! that finds the first broken link of a scope's chain.
//!
//! An entry's payload is the canonical JSON of every field but `hash`: an object with the keys
//! `action`, `actor_id`, `created_at`, `details`, `id`, `prev_hash`, `ref_id`, `scope`, `seq`
//! (sorted, as every object at any depth), no whitespace, strings escaped as JSON does, absent
//! values as `null`, `created_at` in milliseconds since the Unix epoch. Its hash is the
//! lowercase hex SHA-256 of `prev_hash + ":" + payload`, or of `payload` alone for the first
//! entry of a scope (whose `prev_hash` is null).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One audit entry, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub scope: String,
    pub seq: i64,
    pub ref_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub details: Value,
    pub created_at: i64,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// `value` as canonical JSON: object keys sorted at every depth, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The payload an entry's hash covers (every field but `hash`).
pub fn payload(e: &Entry) -> String {
    let mut map = Map::new();
    let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    map.insert("action".into(), Value::String(e.action.clone()));
    map.insert("actor_id".into(), opt(&e.actor_id));
    map.insert("created_at".into(), Value::from(e.created_at));
    map.insert("details".into(), e.details.clone());
    map.insert("id".into(), Value::String(e.id.clone()));
    map.insert("prev_hash".into(), opt(&e.prev_hash));
    map.insert("ref_id".into(), opt(&e.ref_id));
    map.insert("scope".into(), Value::String(e.scope.clone()));
    map.insert("seq".into(), Value::from(e.seq));
    canonical_json(&Value::Object(map))
}

/// The hash of an entry whose payload is `payload`, chained to `prev_hash`.
pub fn chain_hash(prev_hash: Option<&str>, payload: &str) -> String {
    let mut hasher = Sha256::new();
    if let Some(prev) = prev_hash {
        hasher.update(prev.as_bytes());
        hasher.update(b":");
    }
    hasher.update(payload.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash `e` must carry.
pub fn expected_hash(e: &Entry) -> String {
    chain_hash(e.prev_hash.as_deref(), &payload(e))
}

/// Where a chain breaks first. `fingerprint` is the SHA-256 of what the finding is about, as
/// stored (see [`entry_fingerprint`] and [`tail_fingerprint`]): a reanchor accepts a finding
/// only while it still has the fingerprint it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub id: String,
    pub reason: String,
    pub fingerprint: String,
}

/// The id a finding about missing entries carries (a cut tail, a truncated chain, a gap).
pub const CUT: &str = "(cut)";

/// The action of the entry that records a break, so that the chain continues from it: its
/// `details` hold `broken_seq`, `broken_id`, `reason` and `fingerprint`. History is never
/// rewritten.
pub const REANCHOR: &str = "worm.reanchor";

/// The head a scope's chain must end at: the last seq and hash its appends wrote (kept apart
/// from the entries, in `worm_heads`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: Option<String>,
}

/// A break a reanchor records: it is passed over while the finding is the same to the byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub seq: i64,
    pub id: String,
    pub fingerprint: String,
}

impl Recorded {
    /// The record that a reanchor entry's `details` hold, if they hold one.
    pub fn from_details(details: &Value) -> Option<Recorded> {
        Some(Recorded {
            seq: details.get("broken_seq")?.as_i64()?,
            id: details.get("broken_id")?.as_str()?.to_owned(),
            fingerprint: details.get("fingerprint")?.as_str()?.to_owned(),
        })
    }

    fn covers(&self, b: &Broken) -> bool {
        self.seq == b.seq && self.id == b.id && self.fingerprint == b.fingerprint
    }
}

/// Whether a record in `recorded` accepts finding `b`.
pub fn is_recorded(recorded: &[Recorded], b: &Broken) -> bool {
    recorded.iter().any(|r| r.covers(b))
}

/// The SHA-256 (hex) of `parts`, each followed by a newline.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}

/// What an entry is, as stored: its payload and the hash it carries.
pub fn entry_fingerprint(e: &Entry) -> String {
    fingerprint(&[&payload(e), &e.hash])
}

/// What a chain's end is: where its head points (`head_seq`, `head_hash`) and the hash of the
/// last entry left before it (`last_hash`), so a reanchored cut goes stale when either moves.
pub fn tail_fingerprint(head_seq: i64, head_hash: Option<&str>, last_hash: Option<&str>) -> String {
    fingerprint(&[
        &head_seq.to_string(),
        head_hash.unwrap_or(""),
        last_hash.unwrap_or(""),
    ])
}

/// The finding of entries missing between an entry at `prev_seq` (0: none) with hash
/// `prev_hash` and the next one present, at `next_seq` with `next_prev_hash`.
pub fn gap(
    prev_seq: i64,
    prev_hash: Option<&str>,
    next_seq: i64,
    next_prev_hash: Option<&str>,
) -> Broken {
    Broken {
        seq: prev_seq + 1,
        id: CUT.into(),
        reason: format!("entries {} to {} are missing", prev_seq + 1, next_seq - 1),
        fingerprint: tail_fingerprint(next_seq - 1, next_prev_hash, prev_hash),
    }
}

/// The finding of a chain that does not end where its head (`head_seq`, `head_hash`) says,
/// its last entry at `last_seq` (0: none) with `last_hash`; `what` names the chain.
pub fn short_of_head(
    what: &str,
    last_seq: i64,
    last_hash: Option<&str>,
    head_seq: i64,
    head_hash: Option<&str>,
) -> Broken {
    Broken {
        seq: last_seq + 1,
        id: CUT.into(),
        reason: format!("{what} ends at seq {last_seq} but its head names seq {head_seq}"),
        fingerprint: tail_fingerprint(head_seq, head_hash, last_hash),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What walking a scope's chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// The first break that no reanchor entry records.
    pub first_broken: Option<Broken>,
    /// Seqs of breaks that reanchor entries record.
    pub reanchored: Vec<i64>,
}

/// Walks a scope's entries (in `seq` order) and returns the first that does not hold: a seq
/// out of step, a `prev_hash` that is not the previous entry's hash, or a hash that does not
/// match the entry's fields.
pub fn first_broken(entries: &[Entry]) -> Option<Broken> {
    walk(entries, None, &[]).first_broken
}

/// Walks a scope's entries like [`first_broken`], then compares the end with `head` (a chain
/// whose last entries were cut, or emptied, ends short of its head), passing over the breaks
/// that a [`REANCHOR`] entry of the scope records with the same fingerprint (the walk goes on
/// from the entry as stored; across a recorded cut, from the head the cut left).
pub fn check(entries: &[Entry], head: Option<&Head>) -> Check {
    let recorded: Vec<Recorded> = entries
        .iter()
        .filter(|e| e.action == REANCHOR)
        .filter_map(|e| Recorded::from_details(&e.details))
        .collect();
    walk(entries, head, &recorded)
}

fn walk(entries: &[Entry], head: Option<&Head>, recorded: &[Recorded]) -> Check {
    let mut reanchored = Vec::new();
    let mut prev: Option<&Entry> = None;
    let found = |b: Broken, reanchored: &mut Vec<i64>| {
        if is_recorded(recorded, &b) {
            reanchored.push(b.seq);
            None
        } else {
            Some(b)
        }
    };
    for e in entries {
        let expected_seq = prev.map_or(1, |p| p.seq + 1);
        if e.seq > expected_seq {
            // Entries are missing before this one: a recorded cut says the chain went on from
            // the head it left (this entry's prev_hash), and only this entry's hash is left to
            // check.
            let cut = gap(
                expected_seq - 1,
                prev.map(|p| p.hash.as_str()),
                e.seq,
                e.prev_hash.as_deref(),
            );
            if let Some(b) = found(cut, &mut reanchored) {
                return Check {
                    first_broken: Some(b),
                    reanchored,
                };
            }
            if expected_hash(e) != e.hash {
                let b = Broken {
                    seq: e.seq,
                    id: e.id.clone(),
                    reason: "hash does not match the entry's fields".into(),
                    fingerprint: entry_fingerprint(e),
                };
                if let Some(b) = found(b, &mut reanchored) {
                    return Check {
                        first_broken: Some(b),
                        reanchored,
                    };
                }
            }
        } else if let Some(b) = link_broken(prev, e)
            && let Some(b) = found(b, &mut reanchored)
        {
            return Check {
                first_broken: Some(b),
                reanchored,
            };
        }
        prev = Some(e);
    }
    if let Some(head) = head {
        let (last_seq, last_hash) = prev.map_or((0, None), |p| (p.seq, Some(p.hash.as_str())));
        if head.seq != last_seq || head.hash.as_deref() != last_hash {
            let b = short_of_head(
                "the chain",
                last_seq,
                last_hash,
                head.seq,
                head.hash.as_deref(),
            );
            if let Some(b) = found(b, &mut reanchored) {
                return Check {
                    first_broken: Some(b),
                    reanchored,
                };
            }
        }
    }
    Check {
        first_broken: None,
        reanchored,
    }
}

/// Whether the link from `prev` to `e` is broken, and how.
fn link_broken(prev: Option<&Entry>, e: &Entry) -> Option<Broken> {
    let broken = |reason: String| {
        Some(Broken {
            seq: e.seq,
            id: e.id.clone(),
            reason,
            fingerprint: entry_fingerprint(e),
        })
    };
    let expected_seq = prev.map_or(1, |p| p.seq + 1);
    if e.seq != expected_seq {
        return broken(format!("seq {} where {expected_seq} was due", e.seq));
    }
    let expected_prev = prev.map(|p| p.hash.as_str());
    if e.prev_hash.as_deref() != expected_prev {
        return broken("prev_hash is not the previous entry's hash".into());
    }
    if e.hash != expected_hash(e) {
        return broken("hash does not match the entry's fields".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for seq in 1..=n {
            let mut e = Entry {
                id: format!("id-{seq}"),
                scope: "venture:v".into(),
                seq,
                ref_id: Some("v".into()),
                actor_id: Some("alice".into()),
                action: "member.added".into(),
                details: json!({"user_id": "bob", "role": "member"}),
                created_at: 1_700_000_000_000 + seq,
                prev_hash: out.last().map(|p| p.hash.clone()),
                hash: String::new(),
            };
            e.hash = expected_hash(&e);
            out.push(e);
        }
        out
    }

    #[test]
    fn the_canonical_encoding_sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [3, {"z": null, "y": "é\"q"}], "c": true}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":true,"d":[3,{"y":"é\"q","z":null}]},"b":1}"#
        );
    }

    #[test]
    fn the_hash_is_sha256_of_prev_colon_payload() {
        // Hand-checked: printf 'abc' | sha256sum, and printf 'p:abc' | sha256sum.
        assert_eq!(
            chain_hash(None, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            chain_hash(Some("p"), "abc"),
            "fcc8b86568826a535c1889c98bb3e3de0199c39a7e4c0fab12a8e5cc5879d71d"
        );
        let e = &chain(1)[0];
        assert_eq!(
            payload(e),
            r#"{"action":"member.added","actor_id":"alice","created_at":1700000000001,"details":{"role":"member","user_id":"bob"},"id":"id-1","prev_hash":null,"ref_id":"v","scope":"venture:v","seq":1}"#
        );
    }

    #[test]
    fn a_changed_field_is_found_at_its_entry() {
        assert_eq!(first_broken(&chain(5)), None);
        let mut edited = chain(5);
        edited[2].details = json!({"user_id": "mallory", "role": "owner"});
        let broken = first_broken(&edited).unwrap();
        assert_eq!((broken.seq, broken.id.as_str()), (3, "id-3"));
        assert!(broken.reason.contains("hash"));

        // Rehashing the edited entry moves the break to the next link.
        edited[2].hash = expected_hash(&edited[2]);
        let broken = first_broken(&edited).unwrap();
        assert_eq!(broken.seq, 4);
        assert!(broken.reason.contains("prev_hash"));

        // An entry missing in the middle is found where it is missing.
        let mut gap = chain(5);
        gap.remove(1);
        let b = first_broken(&gap).unwrap();
        assert_eq!((b.seq, b.id.as_str()), (2, CUT));
    }

    #[test]
    fn a_reanchor_records_a_break_and_the_chain_goes_on_from_it() {
        let mut entries = chain(3);
        entries[1].details = json!({"tampered": true});
        let broken = first_broken(&entries).unwrap();
        assert_eq!(broken.seq, 2);
        // The repair appends an entry that records the break, chained to the head as stored.
        let mut reanchor = Entry {
            id: "id-4".into(),
            scope: "venture:v".into(),
            seq: 4,
            ref_id: None,
            actor_id: None,
            action: REANCHOR.into(),
            details: json!({"broken_seq": 2, "broken_id": "id-2", "reason": broken.reason,
                            "fingerprint": broken.fingerprint}),
            created_at: 1_700_000_000_004,
            prev_hash: Some(entries[2].hash.clone()),
            hash: String::new(),
        };
        reanchor.hash = expected_hash(&reanchor);
        entries.push(reanchor);
        let head = Head {
            seq: 4,
            hash: Some(entries[3].hash.clone()),
        };
        assert_eq!(
            check(&entries, Some(&head)),
            Check {
                first_broken: None,
                reanchored: vec![2]
            }
        );
        // The same entry changed again is found again: the record names its content.
        let mut again = entries.clone();
        again[1].details = json!({"tampered": "twice"});
        assert_eq!(check(&again, Some(&head)).first_broken.unwrap().seq, 2);
        // A later tamper is still found.
        entries[2].action = "member.removed".into();
        assert_eq!(check(&entries, Some(&head)).first_broken.unwrap().seq, 3);
    }

    fn head_of(entries: &[Entry]) -> Head {
        Head {
            seq: entries.last().map_or(0, |e| e.seq),
            hash: entries.last().map(|e| e.hash.clone()),
        }
    }

    fn reanchor_after(entries: &mut Vec<Entry>, head: &Head, b: &Broken) {
        let seq = head.seq + 1;
        let mut e = Entry {
            id: format!("id-{seq}"),
            scope: "venture:v".into(),
            seq,
            ref_id: None,
            actor_id: Some("ops".into()),
            action: REANCHOR.into(),
            details: json!({"broken_seq": b.seq, "broken_id": b.id, "reason": b.reason,
                            "fingerprint": b.fingerprint}),
            created_at: 1_800_000_000_000,
            prev_hash: head.hash.clone(),
            hash: String::new(),
        };
        e.hash = expected_hash(&e);
        entries.push(e);
    }

    #[test]
    fn a_cut_tail_and_an_emptied_chain_are_found_against_the_head_and_can_be_reanchored() {
        let full = chain(6);
        let head = head_of(&full);
        assert_eq!(check(&full, Some(&head)).first_broken, None);
        // (entries left, the seq found)
        for (left, seq) in [(4usize, 5i64), (0, 1)] {
            let mut cut = full[..left].to_vec();
            let b = check(&cut, Some(&head)).first_broken.unwrap();
            assert_eq!((b.seq, b.id.as_str()), (seq, CUT), "{left} left");
            assert!(b.reason.contains("head names seq 6"), "{}", b.reason);
            // The reanchor appends at the head; the chain then reads whole across the cut.
            reanchor_after(&mut cut, &head, &b);
            let new_head = head_of(&cut);
            let found = check(&cut, Some(&new_head));
            assert_eq!(found.first_broken, None, "{left} left");
            assert_eq!(found.reanchored, vec![seq]);
            // Cutting further is a new finding.
            if left > 0 {
                let mut more = cut.clone();
                more.remove(left - 1);
                assert!(check(&more, Some(&new_head)).first_broken.is_some());
            }
        }
        // A head moved back (or forward) without its entries is a finding too.
        let behind = Head {
            seq: 5,
            hash: Some(full[4].hash.clone()),
        };
        assert_eq!(check(&full, Some(&behind)).first_broken.unwrap().seq, 7);
    }
}
