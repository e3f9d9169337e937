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

/// Where a chain breaks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub id: String,
    pub reason: String,
}

/// The action of the entry that records a break, so that the chain continues from it: its
/// `details` hold `broken_seq`, `broken_id` and `reason`. History is never rewritten.
pub const REANCHOR: &str = "worm.reanchor";

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
    walk(entries, &[]).first_broken
}

/// Walks a scope's entries like [`first_broken`], passing over the breaks that a later
/// [`REANCHOR`] entry records (the walk goes on from the broken entry as stored).
pub fn check(entries: &[Entry]) -> Check {
    let recorded: Vec<(i64, String)> = entries
        .iter()
        .filter(|e| e.action == REANCHOR)
        .filter_map(|e| {
            let seq = e.details.get("broken_seq")?.as_i64()?;
            let id = e.details.get("broken_id")?.as_str()?.to_owned();
            Some((seq, id))
        })
        .collect();
    walk(entries, &recorded)
}

fn walk(entries: &[Entry], recorded: &[(i64, String)]) -> Check {
    let mut reanchored = Vec::new();
    let mut prev: Option<&Entry> = None;
    for e in entries {
        if let Some(broken) = link_broken(prev, e) {
            if recorded.iter().any(|(s, id)| *s == e.seq && *id == e.id) {
                reanchored.push(e.seq);
                prev = Some(e);
                continue;
            }
            return Check {
                first_broken: Some(broken),
                reanchored,
            };
        }
        prev = Some(e);
    }
    Check {
        first_broken: None,
        reanchored,
    }
}

/// Whether the link from `prev` to `e` is broken, and how.
fn link_broken(prev: Option<&Entry>, e: &Entry) -> Option<Broken> {
    {
        let broken = |reason: String| {
            Some(Broken {
                seq: e.seq,
                id: e.id.clone(),
                reason,
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

        let mut gap = chain(5);
        gap.remove(1);
        assert_eq!(first_broken(&gap).unwrap().seq, 3);
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
            details: json!({"broken_seq": 2, "broken_id": "id-2", "reason": broken.reason}),
            created_at: 1_700_000_000_004,
            prev_hash: Some(entries[2].hash.clone()),
            hash: String::new(),
        };
        reanchor.hash = expected_hash(&reanchor);
        entries.push(reanchor);
        assert_eq!(
            check(&entries),
            Check {
                first_broken: None,
                reanchored: vec![2]
            }
        );
        // A later tamper is still found.
        entries[2].action = "member.removed".into();
        assert_eq!(check(&entries).first_broken.unwrap().seq, 3);
    }
}
