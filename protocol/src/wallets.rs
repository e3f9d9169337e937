//! Wallets and their ledgers (`/api/v1/wallet`, `/api/v1/wallets`), BUZ issuance, and the
//! live `wallet:updated` event.

use crate::ids::{ConversionId, TaskId, UserId, WalletId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /api/v1/wallet/me`: one per user, created on first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Wallet {
    pub id: WalletId,
    pub user_id: UserId,
    #[ts(type = "number")]
    pub buz_balance: i64,
    /// BUZ locked by pending conversion requests.
    #[ts(type = "number")]
    pub pending_lock: i64,
    /// `buz_balance - pending_lock`, never negative.
    #[ts(type = "number")]
    pub available: i64,
    /// The on-chain address the wallet is linked to (`null` until linked).
    pub chain_address: Option<String>,
    pub chain_type: Option<String>,
    pub updated_at: String,
}

/// An entry of a wallet's ledger (hash-chained, append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct LedgerEntry {
    pub id: String,
    pub wallet_id: WalletId,
    /// Per wallet, from 1, gap-free.
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
    pub created_at: String,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// `GET /api/v1/wallet/me/ledger?before=&limit=`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// Older entries exist: ask again with `before` = the last seq of this page.
    pub has_more: bool,
}

/// `GET /api/v1/wallet/me/verify`: the chain re-walked and the amounts re-added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WalletVerify {
    pub ok: bool,
    #[ts(type = "number")]
    pub entries: i64,
    /// The amounts add up to the wallet's balance and pending lock.
    pub balance_matches: bool,
    pub first_broken: Option<BrokenLedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct BrokenLedgerEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub id: String,
    pub reason: String,
}

/// BUZ computed for a task but not credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WithheldBuz {
    pub id: String,
    pub task_id: TaskId,
    pub user_id: UserId,
    #[ts(type = "number")]
    pub amount: i64,
    /// `kyc`, `reputation`, `device`, `velocity`, `daily_cap` or `balance_limit`.
    pub reason: String,
    pub created_at: String,
}

/// `GET /api/v1/wallet/me/withheld?before=&limit=`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WithheldList {
    pub withheld: Vec<WithheldBuz>,
    pub has_more: bool,
}

/// What a task event did to the user's wallet (in the event's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct BuzOutcome {
    #[ts(type = "number")]
    pub computed: i64,
    #[ts(type = "number")]
    pub credited: i64,
    #[ts(type = "number")]
    pub withheld: i64,
    /// Why some or all was withheld (`null` when all was credited).
    pub reason: Option<String>,
}

/// `wallet:updated`, to every socket of the wallet's owner after any change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WalletUpdated {
    #[ts(type = "number")]
    pub buz_balance: i64,
    #[ts(type = "number")]
    pub pending_lock: i64,
    #[ts(type = "number")]
    pub available: i64,
}

/// `POST /api/v1/wallets/{user_id}/adjust` (admin): a signed correction, with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Adjust {
    #[ts(type = "number")]
    pub amount: i64,
    /// 1 to 280 characters: why.
    pub note: String,
}
