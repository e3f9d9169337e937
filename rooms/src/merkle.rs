//! An append-only Merkle tree as RFC 6962 (and RFC 9162, §2.1) defines it: the hash of a leaf
//! is `SHA-256(0x00 ‖ leaf)`, of a node `SHA-256(0x01 ‖ left ‖ right)`, and a tree of `n`
//! leaves splits at the largest power of two below `n`. Sans I/O:
//!
//! - [`Frontier`] appends leaves one at a time in O(log n): it keeps the roots of the perfect
//!   subtrees the tree's size decomposes into, and hands back the nodes each append completes,
//!   for a store to keep ([`NodeId`]: a perfect subtree, by level and index);
//! - [`inclusion_plan`] and [`consistency_plan`] say which stored nodes make up a proof (each
//!   element of a proof is the root of a range of leaves, folded from its perfect subtrees by
//!   [`fold`]); the store reads them, [`assemble`] builds the proof;
//! - [`verify_inclusion`] and [`verify_consistency`] check proofs as RFC 9162 §2.1.3.2 and
//!   §2.1.4.2 say, trusting nothing but the roots.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The leaf of a WORM audit entry: the canonical JSON (sorted keys, no spaces) of
/// `{"hash", "kind": "audit", "scope", "seq"}`, its chain hash standing for its content.
pub fn audit_leaf(scope: &str, seq: i64, hash: &str) -> String {
    // Written out with its keys in order (the same bytes as `canonical_json` of the object):
    // every entry of every commit is encoded here.
    format!(
        r#"{{"hash":{},"kind":"audit","scope":{},"seq":{seq}}}"#,
        json_string(hash),
        json_string(scope)
    )
}

/// `s` as a JSON string, escaped as serde_json (and so `canonical_json`) escapes it.
fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The leaf of a ledger entry: the canonical JSON of `{"hash", "kind": "ledger", "seq",
/// "wallet_id"}`.
pub fn ledger_leaf(wallet_id: &str, seq: i64, hash: &str) -> String {
    format!(
        r#"{{"hash":{},"kind":"ledger","seq":{seq},"wallet_id":{}}}"#,
        json_string(hash),
        json_string(wallet_id)
    )
}

/// What a leaf of the log stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    Audit,
    Ledger,
}

impl LeafKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeafKind::Audit => "audit",
            LeafKind::Ledger => "ledger",
        }
    }

    pub fn parse(s: &str) -> Option<LeafKind> {
        match s {
            "audit" => Some(LeafKind::Audit),
            "ledger" => Some(LeafKind::Ledger),
            _ => None,
        }
    }
}

/// The leaf of an entry of `kind` in `chain` (its scope or wallet id).
pub fn leaf_of(kind: LeafKind, chain: &str, seq: i64, hash: &str) -> String {
    match kind {
        LeafKind::Audit => audit_leaf(chain, seq, hash),
        LeafKind::Ledger => ledger_leaf(chain, seq, hash),
    }
}

/// The root of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A perfect subtree: the `2^level` leaves from `index × 2^level`. Its hash never changes
/// once its last leaf is appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    /// The first leaf it covers.
    pub fn start(self) -> u64 {
        self.index << self.level
    }
}

/// The largest power of two strictly below `n` (`n` ≥ 2): where RFC 6962 splits a tree.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees that leaves `[start, end)` decompose into, left to right, as the tree
/// splits them: `start` must be a multiple of the largest of them (true of every range a
/// tree of RFC 6962 splits into).
pub fn perfect_ranges(start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut at = start;
    while at < end {
        let left = end - at;
        // The largest level that fits what is left and that `at` is aligned to.
        let mut level = 63 - left.leading_zeros() as u8;
        while level > 0 && !at.is_multiple_of(1u64 << level) {
            level -= 1;
        }
        nodes.push(NodeId {
            level,
            index: at >> level,
        });
        at += 1 << level;
    }
    nodes
}

/// The root of a range from the hashes of its perfect subtrees, left to right (as
/// [`perfect_ranges`] lists them): folded from the right.
pub fn fold(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The root of a perfect subtree from its leaves' hashes (a power of two of them, left to
/// right); `empty_root()` for none.
pub fn perfect_root(leaves: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = leaves.to_vec();
    if level.is_empty() {
        return empty_root();
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => node_hash(l, r),
                [one] => *one,
                _ => empty_root(),
            })
            .collect();
    }
    level[0]
}

/// The root of the tree over `leaves` (leaf hashes), as RFC 6962's MTH defines it.
pub fn root_of(leaves: &[Hash]) -> Hash {
    let mut f = Frontier::default();
    for l in leaves {
        f.push(*l);
    }
    f.root()
}

/// Why a proof cannot be made or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size}")]
    NoSuchLeaf { index: u64, size: u64 },
    #[error("a tree of {from} is not a prefix of a tree of {to}")]
    NotAPrefix { from: u64, to: u64 },
    #[error("a node of the proof is missing")]
    Missing,
}

/// Which ranges of leaves make up the inclusion proof of leaf `index` in the tree of `size`
/// (RFC 6962 §2.1.1, PATH), from the leaf up: each element is the root of one range, given as
/// its perfect subtrees.
pub fn inclusion_plan(index: u64, size: u64) -> Result<Vec<Vec<NodeId>>, ProofError> {
    if index >= size {
        return Err(ProofError::NoSuchLeaf { index, size });
    }
    let mut plan = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    // Top down; the proof lists the same ranges bottom up.
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            plan.push(perfect_ranges(lo + k, hi));
            hi = lo + k;
        } else {
            plan.push(perfect_ranges(lo, lo + k));
            lo += k;
        }
    }
    plan.reverse();
    Ok(plan)
}

/// Which ranges make up the consistency proof from the tree of `from` leaves to the tree of
/// `to` (RFC 6962 §2.1.2, SUBPROOF), in the proof's order. Empty when `from == to`.
pub fn consistency_plan(from: u64, to: u64) -> Result<Vec<Vec<NodeId>>, ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::NotAPrefix { from, to });
    }
    let mut plan = Vec::new();
    let (mut lo, mut hi, mut whole) = (0u64, to, true);
    while from != hi {
        let k = split(hi - lo);
        if from <= lo + k {
            plan.push(perfect_ranges(lo + k, hi));
            hi = lo + k;
        } else {
            plan.push(perfect_ranges(lo, lo + k));
            lo += k;
            whole = false;
        }
    }
    // The old tree's own subtree, unless it is the old tree itself (the verifier has its root).
    if !whole {
        plan.push(perfect_ranges(lo, hi));
    }
    plan.reverse();
    Ok(plan)
}

/// A proof from its plan and the hashes of the nodes the plan names (`node` answers `None` for
/// one it does not have).
pub fn assemble(
    plan: &[Vec<NodeId>],
    mut node: impl FnMut(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, ProofError> {
    plan.iter()
        .map(|ranges| {
            let hashes = ranges
                .iter()
                .map(|id| node(*id).ok_or(ProofError::Missing))
                .collect::<Result<Vec<_>, _>>()?;
            fold(&hashes).ok_or(ProofError::Missing)
        })
        .collect()
}

/// Whether `proof` shows the leaf hashed `leaf` at `index` in the tree of `size` whose root is
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// Whether `proof` shows that the tree of `from` leaves with root `old` is a prefix of the
/// tree of `to` with root `new` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(from: u64, to: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if from == 0 || from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && old == new;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*old);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fnode, mut snode) = (from - 1, to - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old && sr == *new && snode == 0
}

/// The right edge of a tree: the roots of the perfect subtrees its size decomposes into
/// (largest first), enough to append and to compute the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves from the hashes of its peaks (the nodes
    /// [`Frontier::peak_ids`] names, in that order); `None` when their number does not match.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Option<Frontier> {
        (peaks.len() == size.count_ones() as usize).then_some(Frontier { size, peaks })
    }

    /// The perfect subtrees a tree of `size` decomposes into, largest first.
    pub fn peak_ids(size: u64) -> Vec<NodeId> {
        perfect_ranges(0, size)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks' hashes, in the order of [`Frontier::peak_ids`].
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// The tree's root (the empty tree's for no leaf).
    pub fn root(&self) -> Hash {
        fold(&self.peaks).unwrap_or_else(empty_root)
    }

    /// Appends the leaf hashed `leaf`; answers every node the append completed, the leaf
    /// itself first, for a store to keep.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let mut done = vec![(NodeId { level: 0, index }, leaf)];
        let mut hash = leaf;
        let mut level = 0u8;
        // Each trailing one of the old size is a peak that the new leaf completes a pair with.
        while (index >> level) & 1 == 1 {
            let left = self.peaks.pop().unwrap_or(hash);
            hash = node_hash(&left, &hash);
            level += 1;
            done.push((
                NodeId {
                    level,
                    index: index >> level,
                },
                hash,
            ));
        }
        self.peaks.push(hash);
        self.size += 1;
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The leaves of RFC 6962's test tree (certificate-transparency's test vectors).
    fn leaves() -> Vec<Vec<u8>> {
        vec![
            vec![],
            vec![0x00],
            vec![0x10],
            vec![0x20, 0x21],
            vec![0x30, 0x31],
            vec![0x40, 0x41, 0x42, 0x43],
            (0x50..0x58).collect(),
            (0x60..0x70).collect(),
        ]
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every node of the trees of `leaves`, as a store would keep them.
    fn nodes_of(leaves: &[Vec<u8>]) -> (Vec<Hash>, HashMap<NodeId, Hash>) {
        let mut frontier = Frontier::default();
        let mut nodes = HashMap::new();
        let mut roots = Vec::new();
        for leaf in leaves {
            nodes.extend(frontier.push(leaf_hash(leaf)));
            roots.push(frontier.root());
        }
        (roots, nodes)
    }

    #[test]
    fn roots_are_rfc_6962s() {
        // MTH of the first n leaves, n = 1..8, as certificate-transparency's tests list them.
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let (roots, _) = nodes_of(&leaves());
        let got: Vec<String> = roots.iter().map(hex).collect();
        assert_eq!(got, expected);
        assert_eq!(
            hex(&Frontier::default().root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn proofs_are_rfc_6962s() {
        let (roots, nodes) = nodes_of(&leaves());
        let node = |id: NodeId| nodes.get(&id).copied();
        // (leaf, size, proof), certificate-transparency's vectors.
        for (index, size, expected) in [
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ] {
            let proof = assemble(&inclusion_plan(index, size).unwrap(), node).unwrap();
            assert_eq!(
                proof.iter().map(hex).collect::<Vec<_>>(),
                expected,
                "{index} in {size}"
            );
        }
        // (from, to, proof)
        for (from, to, expected) in [
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                4,
                7,
                vec!["837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"],
            ),
            (8, 8, vec![]),
        ] {
            let proof = assemble(&consistency_plan(from, to).unwrap(), node).unwrap();
            assert_eq!(
                proof.iter().map(hex).collect::<Vec<_>>(),
                expected,
                "{from} to {to}"
            );
            assert!(verify_consistency(
                from,
                to,
                &roots[from as usize - 1],
                &roots[to as usize - 1],
                &proof
            ));
        }
    }

    #[test]
    fn every_proof_of_every_tree_up_to_70_verifies_and_a_changed_one_does_not() {
        let data: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let (roots, nodes) = nodes_of(&data);
        let node = |id: NodeId| nodes.get(&id).copied();
        for size in 1..=70u64 {
            let root = roots[size as usize - 1];
            for index in 0..size {
                let leaf = leaf_hash(&data[index as usize]);
                let proof = assemble(&inclusion_plan(index, size).unwrap(), node).unwrap();
                assert!(verify_inclusion(&leaf, index, size, &proof, &root));
                // Another leaf, another place, a shorter or a changed proof: refused.
                let other = leaf_hash(b"not in the tree");
                assert!(!verify_inclusion(&other, index, size, &proof, &root));
                if size > 1 {
                    assert!(!verify_inclusion(
                        &leaf,
                        (index + 1) % size,
                        size,
                        &proof,
                        &root
                    ));
                    let mut changed = proof.clone();
                    changed[0][0] ^= 1;
                    assert!(!verify_inclusion(&leaf, index, size, &changed, &root));
                    assert!(!verify_inclusion(
                        &leaf,
                        index,
                        size,
                        &proof[..proof.len() - 1],
                        &root
                    ));
                }
            }
            for from in 1..=size {
                let old = roots[from as usize - 1];
                let proof = assemble(&consistency_plan(from, size).unwrap(), node).unwrap();
                assert!(
                    verify_consistency(from, size, &old, &root, &proof),
                    "{from} to {size}"
                );
                if from < size {
                    // A forked old root, or the next tree's root with this proof: refused.
                    let mut forked = old;
                    forked[31] ^= 1;
                    assert!(!verify_consistency(from, size, &forked, &root, &proof));
                    if let Some(next) = roots.get(size as usize) {
                        assert!(!verify_consistency(from, size + 1, &old, next, &proof));
                    }
                    if !proof.is_empty() {
                        let mut changed = proof.clone();
                        let last = changed.len() - 1;
                        changed[last][0] ^= 1;
                        assert!(!verify_consistency(from, size, &old, &root, &changed));
                    }
                }
            }
        }
    }

    #[test]
    fn appends_keep_only_the_peaks_and_hand_back_each_completed_node_once() {
        let mut frontier = Frontier::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000u64 {
            for (id, _) in frontier.push(leaf_hash(&i.to_be_bytes())) {
                assert!(seen.insert(id), "{id:?} handed back twice");
            }
            assert_eq!(frontier.peaks.len() as u32, frontier.size().count_ones());
        }
        // 1000 leaves: 1000 + 500 + 250 + 125 + 62 + 31 + 15 + 7 + 3 + 1 perfect subtrees.
        assert_eq!(seen.len(), 1994);
        // A frontier rebuilt from the stored peaks goes on the same.
        let ids = Frontier::peak_ids(1000);
        assert_eq!(
            ids.iter().map(|id| id.level).collect::<Vec<_>>(),
            vec![9, 8, 7, 6, 5, 3]
        );
        let mut nodes = HashMap::new();
        let mut again = Frontier::default();
        for i in 0..1000u64 {
            nodes.extend(again.push(leaf_hash(&i.to_be_bytes())));
        }
        let peaks = ids.iter().map(|id| nodes[id]).collect();
        let mut rebuilt = Frontier::from_peaks(1000, peaks).unwrap();
        assert_eq!(rebuilt.root(), frontier.root());
        rebuilt.push(leaf_hash(b"next"));
        frontier.push(leaf_hash(b"next"));
        assert_eq!(rebuilt.root(), frontier.root());
        assert!(Frontier::from_peaks(1000, vec![]).is_none());
    }

    #[test]
    fn leaves_are_canonical_json() {
        assert_eq!(
            audit_leaf("user:ann", 3, "ab12"),
            r#"{"hash":"ab12","kind":"audit","scope":"user:ann","seq":3}"#
        );
        assert_eq!(
            ledger_leaf("w1", 7, "cd34"),
            r#"{"hash":"cd34","kind":"ledger","seq":7,"wallet_id":"w1"}"#
        );
        // The same bytes as the canonical JSON of the object, escapes and all.
        for (chain, seq, hash) in [
            ("venture:\"quoted\"\\back", -1i64, "\u{1}\n\u{2028}é"),
            ("w/ü 😀", i64::MAX, ""),
        ] {
            assert_eq!(
                audit_leaf(chain, seq, hash),
                crate::audit::canonical_json(
                    &serde_json::json!({"kind": "audit", "scope": chain, "seq": seq, "hash": hash})
                )
            );
            assert_eq!(
                ledger_leaf(chain, seq, hash),
                crate::audit::canonical_json(
                    &serde_json::json!({"kind": "ledger", "wallet_id": chain, "seq": seq, "hash": hash})
                )
            );
        }
    }

    #[test]
    fn a_perfect_subtree_folds_from_its_leaves_as_the_tree_does() {
        let leaves: Vec<Hash> = (0u8..64).map(|i| leaf_hash(&[i])).collect();
        for width in [1usize, 2, 4, 8, 16, 32, 64] {
            assert_eq!(perfect_root(&leaves[..width]), root_of(&leaves[..width]));
        }
        // RFC 6962: MTH of two leaves is the node of their hashes.
        assert_eq!(
            perfect_root(&leaves[..2]),
            node_hash(&leaves[0], &leaves[1])
        );
        assert_eq!(root_of(&[]), empty_root());
        // A tree of 5 leaves splits at 4.
        assert_eq!(
            root_of(&leaves[..5]),
            node_hash(&perfect_root(&leaves[..4]), &leaves[4])
        );
    }

    #[test]
    fn plans_refuse_what_is_not_a_tree() {
        assert_eq!(
            inclusion_plan(5, 5),
            Err(ProofError::NoSuchLeaf { index: 5, size: 5 })
        );
        assert_eq!(
            consistency_plan(6, 5),
            Err(ProofError::NotAPrefix { from: 6, to: 5 })
        );
        assert_eq!(
            consistency_plan(0, 5),
            Err(ProofError::NotAPrefix { from: 0, to: 5 })
        );
        assert_eq!(
            assemble(&inclusion_plan(0, 4).unwrap(), |_| None),
            Err(ProofError::Missing)
        );
        assert!(!verify_inclusion(&empty_root(), 3, 3, &[], &empty_root()));
        assert!(!verify_consistency(0, 3, &empty_root(), &empty_root(), &[]));
    }
}
