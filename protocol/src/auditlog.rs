//! The Merkle log of audit and ledger entries (`/api/v1/audit/*`): its entries with their
//! leaves, RFC 6962 proofs, and the signed checkpoints kept outside the database.
//!
//! Hashes are base64 (standard alphabet, padded), as in C2SP checkpoints; an entry's own chain
//! hash stays lowercase hex, as its chain stores it.

use crate::ids::{ConversionId, TaskId, WalletId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A WORM audit entry as its chain hashes it (`created_at` in Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct AuditRecord {
    pub id: String,
    pub scope: String,
    #[ts(type = "number")]
    pub seq: i64,
    pub ref_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    #[ts(type = "unknown")]
    pub details: serde_json::Value,
    #[ts(type = "number")]
    pub created_at: i64,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// A ledger entry as its chain hashes it (`created_at` in Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct LedgerRecord {
    pub id: String,
    pub wallet_id: WalletId,
    #[ts(type = "number")]
    pub seq: i64,
    /// `EARN`, `LOCK`, `UNLOCK`, `SPEND` or `ADJUST`.
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub kind: String,
    #[ts(type = "number")]
    pub amount: i64,
    #[ts(type = "number")]
    pub balance_after: i64,
    pub task_id: Option<TaskId>,
    pub review_id: Option<String>,
    pub conversion_id: Option<ConversionId>,
    pub note: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// `GET /api/v1/audit/entries/{index}`: leaf `index` of the log and the entry it stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct LogEntry {
    #[ts(type = "number")]
    pub index: u64,
    /// `audit` or `ledger`.
    pub kind: String,
    /// The leaf as the log recorded it: the canonical JSON `{"hash","kind","scope","seq"}`
    /// (audit) or `{"hash","kind","seq","wallet_id"}` (ledger).
    pub leaf: String,
    /// `SHA-256(0x00 ‖ leaf)`, base64.
    pub leaf_hash: String,
    /// The audit entry as stored now (`null` when it is gone, or for a ledger leaf).
    pub audit: Option<AuditRecord>,
    /// The ledger entry as stored now (`null` when it is gone, or for an audit leaf).
    pub ledger: Option<LedgerRecord>,
}

/// `GET /api/v1/audit/entries?from=&limit=`: consecutive leaves from `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct LogEntryPage {
    pub entries: Vec<LogEntry>,
    /// The log's size when the page was read.
    #[ts(type = "number")]
    pub size: u64,
}

/// `GET /api/v1/audit/proof/inclusion?index=&size=` (RFC 6962 §2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct InclusionProof {
    #[ts(type = "number")]
    pub index: u64,
    #[ts(type = "number")]
    pub size: u64,
    /// The leaf's hash, base64.
    pub leaf_hash: String,
    /// The root of the tree of `size` leaves, base64.
    pub root: String,
    /// From the leaf up, base64.
    pub proof: Vec<String>,
}

/// `GET /api/v1/audit/proof/consistency?from=&to=` (RFC 6962 §2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConsistencyProof {
    #[ts(type = "number")]
    pub from: u64,
    #[ts(type = "number")]
    pub to: u64,
    /// The roots of both trees, base64.
    pub from_root: String,
    pub to_root: String,
    pub proof: Vec<String>,
}

/// `GET /api/v1/audit/key`: the verifier key of the log's checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct AuditKey {
    /// The log's origin: the first line of every checkpoint and the signature's name.
    pub origin: String,
    /// The C2SP `signed-note` verifier key: `<name>+<hex key hash>+<base64(0x01 ‖ key)>`.
    pub vkey: String,
    /// The Ed25519 public key alone, base64 (32 bytes).
    pub public_key: String,
}

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CheckpointInfo {
    #[ts(type = "number")]
    pub size: u64,
    /// base64.
    pub root: String,
    /// Its key in the object store (`audit/checkpoints/…`).
    pub key: String,
    /// The signed note, as served by `GET /api/v1/audit/checkpoint`.
    pub note: String,
}

/// `GET /api/v1/audit/checkpoints?before=&limit=`: checkpoints in the object store, largest
/// first; a page holds every checkpoint of its last size (two of one size are a fork).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CheckpointList {
    pub checkpoints: Vec<CheckpointInfo>,
    /// Smaller checkpoints exist: ask again with `before` = the last size of this page.
    pub has_more: bool,
}
