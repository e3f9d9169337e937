//! The Merkle log of audit and ledger entries (RFC 6962 hashing, see `hub_rooms::merkle`).
//!
//! Every audit and ledger entry a write transaction sends is noted by [`super::WriteTx`]; at
//! its commit the transaction appends one leaf per entry, in the order it sent them, and moves
//! the log's head (`audit_log_head`: the size and the right edge of the tree) in the same
//! commit. Appends queue on the head row, which puts the leaves of concurrent transactions in
//! commit order: on one node an in-process lock over the edge comes first (so writers queue in
//! memory, and the edge need not be read back), and across nodes the head's `size` guards the
//! move (a node whose edge is stale reads it again, locked).
//!
//! A commit's leaves are one row (`audit_log`: the first index, the count, and each leaf's
//! chain, seq and entry hash as logged, so that the log still says what was there when the
//! entry has been edited or removed since): one insert per commit, whatever its size. Perfect
//! subtrees of [`STORED_LEVEL`] and more are kept as nodes; smaller ones are folded from their
//! leaves when a proof names them (at most 255 leaves read per node).

use super::json_rows;
use super::{Backend, Store, StoreError, StoreResult};
use hub_rooms::merkle::{self, Frontier, Hash, NodeId};
pub use hub_rooms::merkle::{LeafKind as Kind, leaf_of};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The smallest subtree whose root is stored: 2^8 = 256 leaves.
pub const STORED_LEVEL: u8 = 8;

/// An entry sent by a write transaction, waiting for its leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Logged {
    pub kind: Kind,
    /// The audit scope or the wallet id.
    pub chain: String,
    pub seq: i64,
    /// The entry's chain hash (hex).
    pub hash: String,
}

#[derive(Serialize)]
struct NodeRow {
    level: i64,
    idx: i64,
    hash: String,
}

const NODE_COLUMNS: &[(&str, &str)] = &[("level", "smallint"), ("idx", "bigint"), ("hash", "text")];

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn peaks_text(f: &Frontier) -> String {
    f.peaks().iter().map(hex::encode).collect()
}

fn parse_peaks(size: i64, text: &str) -> Result<Frontier, sqlx::Error> {
    let bad = || sqlx::Error::Protocol("audit_log_head holds a malformed edge".into());
    let bytes = hex::decode(text).map_err(|_| bad())?;
    if bytes.len() % 32 != 0 {
        return Err(bad());
    }
    let peaks: Vec<Hash> = bytes
        .chunks(32)
        .map(|c| c.try_into().unwrap_or([0u8; 32]))
        .collect();
    Frontier::from_peaks(u64::try_from(size).map_err(|_| bad())?, peaks).ok_or_else(bad)
}

/// Reads the head; on Postgres inside a write transaction, `lock` holds it until the commit.
async fn read_head(
    conn: &mut AnyConnection,
    backend: Backend,
    lock: bool,
) -> Result<Frontier, sqlx::Error> {
    let sql = match (backend, lock) {
        (Backend::Postgres, true) => {
            "SELECT size, peaks FROM audit_log_head WHERE id = 1 FOR UPDATE"
        }
        _ => "SELECT size, peaks FROM audit_log_head WHERE id = 1",
    };
    let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
    parse_peaks(row.try_get("size")?, &row.try_get::<String, _>("peaks")?)
}

/// Appends a leaf per entry of `logged` to the log, inside the transaction that wrote them,
/// from the edge this node last committed (`known`, or read when `None`). Answers the new
/// edge, which the caller keeps once the transaction has committed.
pub(super) async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    known: Option<Frontier>,
    logged: &[Logged],
) -> Result<Frontier, sqlx::Error> {
    let base = match known {
        Some(f) => f,
        None => read_head(conn, backend, true).await?,
    };
    let packed: Vec<(&str, &str, i64, &str)> = logged
        .iter()
        .map(|l| (l.kind.as_str(), l.chain.as_str(), l.seq, l.hash.as_str()))
        .collect();
    let packed = serde_json::to_string(&packed).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut grown = grow(&base, logged);
    if !move_and_insert(conn, backend, &base, &grown, &packed, logged.len()).await? {
        // Another node appended since this one's edge: read it again, locked.
        let base = read_head(conn, backend, true).await?;
        grown = grow(&base, logged);
        if !move_and_insert(conn, backend, &base, &grown, &packed, logged.len()).await? {
            return Err(sqlx::Error::Protocol(
                "the audit log's head moved under its lock".into(),
            ));
        }
    }
    json_rows::insert(conn, backend, "audit_log_nodes", NODE_COLUMNS, &grown.nodes).await?;
    Ok(grown.edge)
}

struct Grown {
    edge: Frontier,
    nodes: Vec<NodeRow>,
}

fn grow(base: &Frontier, logged: &[Logged]) -> Grown {
    let mut edge = base.clone();
    let mut nodes = Vec::new();
    for l in logged {
        let leaf = merkle::leaf_hash(leaf_of(l.kind, &l.chain, l.seq, &l.hash).as_bytes());
        for (id, hash) in edge.push(leaf) {
            if id.level >= STORED_LEVEL {
                nodes.push(NodeRow {
                    level: i64::from(id.level),
                    idx: to_i64(id.index),
                    hash: hex::encode(hash),
                });
            }
        }
    }
    Grown { edge, nodes }
}

/// Moves the head from `from` to `grown`'s edge and inserts the commit's row of leaves, unless
/// the head is no longer at `from`'s size (then nothing is written). On Postgres both go in one
/// statement, one round trip on the commit's path.
async fn move_and_insert(
    conn: &mut AnyConnection,
    backend: Backend,
    from: &Frontier,
    grown: &Grown,
    packed: &str,
    count: usize,
) -> Result<bool, sqlx::Error> {
    let to = &grown.edge;
    match backend {
        Backend::Postgres => {
            let done = sqlx::query(
                "WITH moved AS (
                     UPDATE audit_log_head SET size = $1, peaks = $2 WHERE id = 1 AND size = $3
                     RETURNING size)
                 INSERT INTO audit_log (first_idx, count, leaves)
                 SELECT $3, $4, $5 FROM moved",
            )
            .bind(to_i64(to.size()))
            .bind(peaks_text(to))
            .bind(to_i64(from.size()))
            .bind(count as i64)
            .bind(packed)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        }
        Backend::Sqlite => {
            let moved = sqlx::query(
                "UPDATE audit_log_head SET size = $1, peaks = $2 WHERE id = 1 AND size = $3",
            )
            .bind(to_i64(to.size()))
            .bind(peaks_text(to))
            .bind(to_i64(from.size()))
            .execute(&mut *conn)
            .await?;
            if moved.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query("INSERT INTO audit_log (first_idx, count, leaves) VALUES ($1, $2, $3)")
                .bind(to_i64(from.size()))
                .bind(count as i64)
                .bind(packed)
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
    }
}

/// A leaf of the log as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub index: u64,
    pub kind: Kind,
    pub chain: String,
    pub seq: i64,
    /// The entry's hash when it was logged.
    pub hash: String,
}

impl Leaf {
    /// `SHA-256(0x00 ‖ leaf)`.
    pub fn hash(&self) -> Hash {
        merkle::leaf_hash(leaf_of(self.kind, &self.chain, self.seq, &self.hash).as_bytes())
    }
}

/// A leaf of the log with the entry it stands for as stored now.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub index: u64,
    pub kind: Kind,
    pub chain: String,
    pub seq: i64,
    pub hash: String,
    pub leaf_hash: Hash,
    pub audit: Option<hub_rooms::audit::Entry>,
    pub ledger: Option<hub_rooms::wallets::Entry>,
}

fn malformed(why: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("the audit log holds a malformed row: {why}"))
}

fn hash_of(text: &str) -> StoreResult<Hash> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("a hash that is not 32 bytes of hex"))
}

#[derive(Serialize)]
struct EntryKey<'a> {
    chain: &'a str,
    seq: i64,
}

const KEY_COLUMNS: &[(&str, &str)] = &[("chain", "text"), ("seq", "bigint")];

impl Store {
    /// The log's size and root now.
    pub async fn log_head(&self) -> StoreResult<Frontier> {
        let mut conn = self.pool().acquire().await?;
        Ok(read_head(&mut conn, self.backend, false).await?)
    }

    /// The leaves `from..to` as logged, in order; fewer when the log is shorter, and an error
    /// when one is missing in between.
    pub async fn log_leaves(&self, from: u64, to: u64) -> StoreResult<Vec<Leaf>> {
        if from >= to {
            return Ok(Vec::new());
        }
        // The commit holding `from`, and every later one that starts before `to`.
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT first_idx, count, leaves FROM audit_log
             WHERE first_idx >= COALESCE((SELECT MAX(first_idx) FROM audit_log WHERE first_idx <= $1), 0)
               AND first_idx < $2
             ORDER BY first_idx",
        )
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity((to - from).min(1 << 20) as usize);
        let mut next = from;
        for (first, count, leaves) in rows {
            let first = u64::try_from(first).map_err(malformed)?;
            let leaves: Vec<(String, String, i64, String)> =
                serde_json::from_str(&leaves).map_err(malformed)?;
            if leaves.len() as i64 != count {
                return Err(malformed(format!(
                    "the commit at {first} does not hold {count} leaves"
                )));
            }
            for (i, (kind, chain, seq, hash)) in leaves.into_iter().enumerate() {
                let index = first + i as u64;
                if index < next || index >= to {
                    continue;
                }
                if index != next {
                    return Err(StoreError::Invalid(format!(
                        "the audit log has no leaf {next}"
                    )));
                }
                let kind = Kind::parse(&kind).ok_or_else(|| malformed(format!("kind {kind}")))?;
                out.push(Leaf {
                    index,
                    kind,
                    chain,
                    seq,
                    hash,
                });
                next += 1;
            }
        }
        Ok(out)
    }

    /// The leaf hashes `from..to`, in order (fewer when the log is shorter).
    pub async fn log_leaf_hashes(&self, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
        Ok(self
            .log_leaves(from, to)
            .await?
            .iter()
            .map(Leaf::hash)
            .collect())
    }

    /// The leaves `from..to` (clamped to the log) with their entries as stored now.
    pub async fn log_rows(&self, from: u64, to: u64) -> StoreResult<Vec<LogRow>> {
        let leaves = self.log_leaves(from, to).await?;
        let keys = |kind: Kind| -> Vec<EntryKey<'_>> {
            leaves
                .iter()
                .filter(|l| l.kind == kind)
                .map(|l| EntryKey {
                    chain: &l.chain,
                    seq: l.seq,
                })
                .collect()
        };
        let (audit_keys, ledger_keys) = (keys(Kind::Audit), keys(Kind::Ledger));
        let mut audits: HashMap<(String, i64), hub_rooms::audit::Entry> = HashMap::new();
        if !audit_keys.is_empty() {
            let sql = format!(
                "SELECT a.id, a.scope, a.seq, a.ref_id, a.actor_id, a.action, a.details, a.created_at,
                        a.prev_hash, a.hash
                 FROM worm_audits a JOIN ({}) k ON a.scope = k.chain AND a.seq = k.seq",
                self.backend.json_rows(1, KEY_COLUMNS)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(serde_json::to_string(&audit_keys).map_err(malformed)?)
                .bind(audit_keys.len() as i64)
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                let e = audit_of(r)?;
                audits.insert((e.scope.clone(), e.seq), e);
            }
        }
        let mut ledger: HashMap<(String, i64), hub_rooms::wallets::Entry> = HashMap::new();
        if !ledger_keys.is_empty() {
            let sql = format!(
                "SELECT w.id, w.wallet_id, w.seq, w.type, w.amount, w.balance_after, w.task_id,
                        w.review_id, w.conversion_id, w.note, w.created_at, w.prev_hash, w.hash
                 FROM wallet_ledgers w JOIN ({}) k ON w.wallet_id = k.chain AND w.seq = k.seq",
                self.backend.json_rows(1, KEY_COLUMNS)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(serde_json::to_string(&ledger_keys).map_err(malformed)?)
                .bind(ledger_keys.len() as i64)
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                let e = ledger_of(r)?;
                ledger.insert((e.wallet_id.clone(), e.seq), e);
            }
        }
        Ok(leaves
            .into_iter()
            .map(|l| {
                let key = (l.chain.clone(), l.seq);
                LogRow {
                    index: l.index,
                    leaf_hash: l.hash(),
                    audit: (l.kind == Kind::Audit)
                        .then(|| audits.remove(&key))
                        .flatten(),
                    ledger: (l.kind == Kind::Ledger)
                        .then(|| ledger.remove(&key))
                        .flatten(),
                    kind: l.kind,
                    chain: l.chain,
                    seq: l.seq,
                    hash: l.hash,
                }
            })
            .collect())
    }

    /// The root of the perfect subtree `id`: stored, or folded from its leaves.
    pub async fn log_node(&self, id: NodeId) -> StoreResult<Hash> {
        if id.level >= STORED_LEVEL {
            let hash: Option<String> = sqlx::query_scalar(
                "SELECT hash FROM audit_log_nodes WHERE level = $1 AND idx = $2",
            )
            .bind(i64::from(id.level))
            .bind(to_i64(id.index))
            .fetch_optional(self.pool())
            .await?;
            return match hash {
                Some(h) => hash_of(&h),
                None => Err(StoreError::Invalid(format!(
                    "the audit log has no node {}/{}",
                    id.level, id.index
                ))),
            };
        }
        let width = 1u64 << id.level;
        let leaves = self.log_leaf_hashes(id.start(), id.start() + width).await?;
        if leaves.len() as u64 != width {
            return Err(StoreError::Invalid(format!(
                "the audit log has no leaf {}",
                id.start() + leaves.len() as u64
            )));
        }
        Ok(merkle::perfect_root(&leaves))
    }

    /// Appends a leaf for every audit and ledger entry that has none, in the order they were
    /// written (time, then audit before ledger, then chain and seq): a database made before
    /// the log existed gets its entries logged once, at start.
    pub async fn log_backfill(&self) -> StoreResult<u64> {
        let mut w = self.begin_write().await?;
        let conn = w.conn().await?;
        let sql = match self.backend {
            // Two nodes starting at once: the second waits here, then finds the log filled.
            Backend::Postgres => "SELECT size FROM audit_log_head WHERE id = 1 FOR UPDATE",
            Backend::Sqlite => "SELECT size FROM audit_log_head WHERE id = 1",
        };
        let size: i64 = sqlx::query_scalar(sql).fetch_one(&mut *conn).await?;
        if size > 0 {
            return Ok(0);
        }
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT kind, chain, seq, hash FROM (
                 SELECT 'audit' AS kind, scope AS chain, seq, hash, created_at, 0 AS k FROM worm_audits
                 UNION ALL
                 SELECT 'ledger' AS kind, wallet_id AS chain, seq, hash, created_at, 1 AS k FROM wallet_ledgers
             ) e ORDER BY created_at, k, chain, seq",
        )
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len() as u64;
        for (kind, chain, seq, hash) in rows {
            w.log(Logged {
                kind: Kind::parse(&kind).unwrap_or(Kind::Audit),
                chain,
                seq,
                hash,
            });
        }
        w.commit().await?;
        Ok(n)
    }
}

fn audit_of(r: &sqlx::any::AnyRow) -> StoreResult<hub_rooms::audit::Entry> {
    let details: String = r.try_get("details")?;
    Ok(hub_rooms::audit::Entry {
        id: r.try_get("id")?,
        scope: r.try_get("scope")?,
        seq: r.try_get("seq")?,
        ref_id: r.try_get("ref_id")?,
        actor_id: r.try_get("actor_id")?,
        action: r.try_get("action")?,
        // Kept as stored: a details text that no longer parses stands as a string, whose hash
        // cannot match.
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        created_at: r.try_get("created_at")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

fn ledger_of(r: &sqlx::any::AnyRow) -> StoreResult<hub_rooms::wallets::Entry> {
    Ok(hub_rooms::wallets::Entry {
        id: r.try_get("id")?,
        wallet_id: r.try_get("wallet_id")?,
        seq: r.try_get("seq")?,
        kind: r.try_get("type")?,
        amount: r.try_get("amount")?,
        balance_after: r.try_get("balance_after")?,
        task_id: r.try_get("task_id")?,
        review_id: r.try_get("review_id")?,
        conversion_id: r.try_get("conversion_id")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewAudit;

    async fn open(url: &str) -> Store {
        let store = Store::connect(url, 2).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn entry(scope: &str, n: usize) -> NewAudit<'static> {
        NewAudit {
            scope: scope.to_owned(),
            ref_id: None,
            actor_id: None,
            action: "test.step",
            details: serde_json::json!({ "n": n }),
        }
    }

    /// What the log should hold: a leaf per stored entry, in the order of `expected`.
    async fn assert_log_is(store: &Store, expected: &[(String, i64)]) {
        let rows = store.log_rows(0, 1_000).await.unwrap();
        let got: Vec<(String, i64)> = rows.iter().map(|r| (r.chain.clone(), r.seq)).collect();
        assert_eq!(got, expected);
        let mut leaves = Vec::new();
        for r in &rows {
            let audit = r.audit.as_ref().expect("the entry is stored");
            assert_eq!(audit.hash, r.hash);
            let leaf = merkle::leaf_hash(leaf_of(Kind::Audit, &r.chain, r.seq, &r.hash).as_bytes());
            assert_eq!(leaf, r.leaf_hash);
            leaves.push(leaf);
        }
        let head = store.log_head().await.unwrap();
        assert_eq!(head.size(), expected.len() as u64);
        assert_eq!(head.root(), merkle::root_of(&leaves));
    }

    /// Two stores on one database stand for two nodes: each keeps its own edge, and a commit
    /// from a stale edge reads the head again. An item taken back through its savepoint leaves
    /// no leaf; a transaction that rolls back leaves none either.
    #[tokio::test]
    async fn leaves_follow_commits_across_nodes_and_items_taken_back_leave_none() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let (a, b) = (open(&url).await, open(&url).await);
        let mut expected = Vec::new();
        let mut n = 0;
        for (store, scope, count) in [(&a, "a", 3), (&b, "b", 2), (&a, "a", 2), (&b, "b", 1)] {
            let mut w = store.begin_write().await.unwrap();
            for _ in 0..count {
                let e = store.audit(&mut w, entry(scope, n)).await.unwrap();
                expected.push((e.scope, e.seq));
                n += 1;
            }
            w.commit().await.unwrap();
        }
        assert_log_is(&a, &expected).await;

        // An item that ran a statement of its own (so its rows were sent under a savepoint),
        // then was taken back.
        let mut w = a.begin_write().await.unwrap();
        let kept = a.audit(&mut w, entry("a", 100)).await.unwrap();
        a.begin_item(&mut w).await.unwrap();
        a.audit(&mut w, entry("c", 101)).await.unwrap();
        w.conn().await.unwrap();
        a.end_item(&mut w, true).await.unwrap();
        w.commit().await.unwrap();
        expected.push((kept.scope, kept.seq));
        assert_log_is(&b, &expected).await;

        // Rolled back: nothing logged, and the next commit starts where the log is.
        let mut w = b.begin_write().await.unwrap();
        b.audit(&mut w, entry("b", 200)).await.unwrap();
        w.conn().await.unwrap();
        drop(w);
        let mut w = b.begin_write().await.unwrap();
        let e = b.audit(&mut w, entry("b", 201)).await.unwrap();
        w.commit().await.unwrap();
        expected.push((e.scope, e.seq));
        assert_log_is(&a, &expected).await;
    }

    /// Proof nodes: a subtree of 256 leaves and more is read from the nodes kept at append,
    /// a smaller one folded from its leaves; both match the tree computed whole.
    #[tokio::test]
    async fn stored_and_folded_nodes_match_the_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let store = open(&url).await;
        let mut w = store.begin_write().await.unwrap();
        for n in 0..600 {
            store.audit(&mut w, entry("s", n)).await.unwrap();
        }
        w.commit().await.unwrap();
        let leaves = store.log_leaf_hashes(0, 600).await.unwrap();
        assert_eq!(leaves.len(), 600);
        for (level, index) in [(9u8, 0u64), (8, 1), (7, 3), (0, 599), (3, 70)] {
            let id = NodeId { level, index };
            let start = id.start() as usize;
            let whole = merkle::perfect_root(&leaves[start..start + (1 << level)]);
            assert_eq!(store.log_node(id).await.unwrap(), whole, "{id:?}");
        }
        // Not there yet: a subtree past the end.
        assert!(store.log_node(NodeId { level: 8, index: 2 }).await.is_err());
        assert!(
            store
                .log_node(NodeId {
                    level: 4,
                    index: 40
                })
                .await
                .is_err()
        );
    }
}
