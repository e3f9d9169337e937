//! Wallets, their hash-chained ledgers and withheld BUZ (rules in `hub_rooms::wallets`). A
//! wallet is created on first use. Its balance and pending lock change only through
//! [`Store::append_ledger`], inside the caller's transaction and under the wallet's row lock,
//! which writes the ledger entry and moves the wallet's head together (the services record the
//! entry in the owner's audit chain in the same transaction).

use super::behind::{LedgerRow, WithheldRow};
use super::{Issuance, Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{TaskId, UserId, WalletId};
use hub_rooms::wallets::{Entry, EntryType, expected_hash};
use serde_json::json;
use std::collections::HashMap;

/// A wallet as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRow {
    pub id: WalletId,
    pub user_id: UserId,
    pub balance: i64,
    pub pending: i64,
    pub seq: i64,
    pub head_hash: Option<String>,
    pub chain_address: Option<String>,
    pub chain_type: Option<String>,
    pub updated_at: i64,
}

/// BUZ withheld from a task's credit, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WithheldEntry {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub task_id: TaskId,
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    pub amount: i64,
    pub reason: String,
    pub created_at: i64,
}

/// What a ledger entry refers to.
/// What the issuance gates read (see [`Store::issuance_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceFacts {
    pub kyc_status: String,
    pub rep_milli: i64,
    pub device_compliant: Option<bool>,
    pub credits_last_hour: i64,
    pub credited_today: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Refs<'a> {
    pub task_id: Option<&'a str>,
    pub review_id: Option<&'a str>,
    pub conversion_id: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Read by column name, ids typed.
impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for WalletRow {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(WalletRow {
            id: super::id_of(r, "id")?,
            user_id: super::id_of(r, "user_id")?,
            balance: r.try_get("buz_balance")?,
            pending: r.try_get("pending_lock")?,
            seq: r.try_get("seq")?,
            head_hash: r.try_get("head_hash")?,
            chain_address: r.try_get("chain_address")?,
            chain_type: r.try_get("chain_type")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

const WALLET_COLUMNS: &str =
    "id, user_id, buz_balance, pending_lock, seq, head_hash, chain_address, chain_type, updated_at";
const ENTRY_COLUMNS: &str = "id, wallet_id, seq, type, amount, balance_after, task_id, review_id, conversion_id, note, created_at, prev_hash, hash";

/// A ledger entry's columns, read by name.
#[derive(sqlx::FromRow)]
struct EntryColumns {
    id: String,
    wallet_id: String,
    seq: i64,
    #[sqlx(rename = "type")]
    kind: String,
    amount: i64,
    balance_after: i64,
    task_id: Option<String>,
    review_id: Option<String>,
    conversion_id: Option<String>,
    note: Option<String>,
    created_at: i64,
    prev_hash: Option<String>,
    hash: String,
}

impl From<EntryColumns> for Entry {
    fn from(c: EntryColumns) -> Entry {
        Entry {
            id: c.id,
            wallet_id: c.wallet_id,
            seq: c.seq,
            kind: c.kind,
            amount: c.amount,
            balance_after: c.balance_after,
            task_id: c.task_id,
            review_id: c.review_id,
            conversion_id: c.conversion_id,
            note: c.note,
            created_at: c.created_at,
            prev_hash: c.prev_hash,
            hash: c.hash,
        }
    }
}

impl Store {
    /// `user`'s wallet, created with the user if missing, locked for the rest of `w`.
    pub async fn lock_wallet(&self, w: &mut WriteTx, user: &UserId) -> StoreResult<WalletRow> {
        if let Some(wallet) = w.known.wallets.get(user.as_str()) {
            return Ok(wallet.clone());
        }
        self.lock_wallets(w, &[user]).await?;
        w.known
            .wallets
            .get(user.as_str())
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// [`Store::lock_wallet`] for many users at once: the wallets that exist are locked in one
    /// statement per 500; missing ones are created (with their users) first.
    pub async fn lock_wallets(&self, w: &mut WriteTx, users: &[&UserId]) -> StoreResult<()> {
        let users: Vec<&UserId> =
            super::unknown(users, |u| w.known.wallets.contains_key(u.as_str()));
        for chunk in users.chunks(500) {
            let found = self.select_wallets(w, chunk).await?;
            if found < chunk.len() {
                let missing: Vec<&UserId> = chunk
                    .iter()
                    .copied()
                    .filter(|u| !w.known.wallets.contains_key(u.as_str()))
                    .collect();
                self.ensure_profiles(w, &missing).await?;
                let now = self.now_ms();
                let rows: Vec<serde_json::Value> = missing
                    .iter()
                    .map(|u| json!({"id": new_id(), "user_id": u.as_str()}))
                    .collect();
                // Another transaction creating one at the same time is waited for by the
                // insert.
                let sql = format!(
                    "INSERT INTO wallets (id, user_id, created_at, updated_at)
                     SELECT r.id, r.user_id, $3, $3 FROM ({}) AS r WHERE true
                     ON CONFLICT (user_id) DO NOTHING",
                    self.backend
                        .json_rows(1, &[("id", "text"), ("user_id", "text")])
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(serde_json::Value::from(rows).to_string())
                    .bind(missing.len() as i64)
                    .bind(now)
                    .execute(w.conn().await?)
                    .await?;
                self.select_wallets(w, &missing).await?;
            }
        }
        Ok(())
    }

    /// Locks the wallets of `users` that exist into `w`; answers how many.
    async fn select_wallets(&self, w: &mut WriteTx, users: &[&UserId]) -> StoreResult<usize> {
        if users.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE user_id IN ({}) ORDER BY user_id{}",
            self.backend.json_list(1),
            self.for_update()
        );
        let query = sqlx::query_as::<_, WalletRow>(sqlx::AssertSqlSafe(sql))
            .bind(super::json_array(users))
            .bind(users.len() as i64);
        let rows = query.fetch_all(w.conn().await?).await?;
        let n = rows.len();
        for row in rows {
            let wallet = row;
            w.learn(|k| &mut k.wallets, wallet.user_id.to_string(), wallet);
        }
        Ok(n)
    }

    /// `user`'s wallet, created on first use.
    pub async fn wallet(&self, user: &UserId) -> StoreResult<WalletRow> {
        let sql = format!("SELECT {WALLET_COLUMNS} FROM wallets WHERE user_id = $1");
        let row: Option<WalletRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = row {
            return Ok(row);
        }
        let mut w = self.begin_write().await?;
        let row = self.lock_wallet(&mut w, user).await?;
        w.commit().await?;
        Ok(row)
    }

    /// Appends an entry to `wallet`'s ledger inside `w` (the wallet locked by
    /// [`Store::lock_wallet`]) and moves the wallet; the caller records the entry in the owner's
    /// audit chain in the same transaction. Refuses (`Conflict`) what would take the balance or
    /// the lock below zero or the lock above the balance, or the balance past `MAX_BUZ`.
    pub async fn append_ledger(
        &self,
        w: &mut WriteTx,
        wallet: &mut WalletRow,
        kind: EntryType,
        amount: i64,
        refs: Refs<'_>,
    ) -> StoreResult<Entry> {
        self.fault("append_ledger")?;
        let (balance, pending) = kind
            .apply(wallet.balance, wallet.pending, amount)
            .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        let now = self.now_ms();
        let mut e = Entry {
            id: new_id(),
            wallet_id: wallet.id.to_string(),
            seq: wallet.seq + 1,
            kind: kind.as_str().to_owned(),
            amount,
            balance_after: balance,
            task_id: refs.task_id.map(str::to_owned),
            review_id: refs.review_id.map(str::to_owned),
            conversion_id: refs.conversion_id.map(str::to_owned),
            note: refs.note.map(str::to_owned),
            created_at: now,
            prev_hash: wallet.head_hash.clone(),
            hash: String::new(),
        };
        e.hash = expected_hash(&e);
        if kind == EntryType::Earn
            && let Some(mut counted) = w.known.issuance.get(wallet.id.as_str()).cloned()
        {
            counted.credits_last_hour += 1;
            counted.credited_today = counted.credited_today.saturating_add(amount);
            w.learn(|k| &mut k.issuance, wallet.id.to_string(), counted);
        }
        w.pending.ledger.push(LedgerRow {
            entry: e.clone(),
            pending_after: pending,
        });
        wallet.balance = balance;
        wallet.pending = pending;
        wallet.seq = e.seq;
        wallet.head_hash = Some(e.hash.clone());
        wallet.updated_at = now;
        w.learn(
            |k| &mut k.wallets,
            wallet.user_id.to_string(),
            wallet.clone(),
        );
        Ok(e)
    }

    /// What the issuance gates read of `user` inside `w`: KYC status, reputation
    /// (thousandths), the latest device report's compliance, and the credits (`EARN` entries)
    /// of `wallet_id` since `hour_since` (how many) and since `day_since` (how much). The
    /// counts are read once per transaction and windows (see [`Store::load_issuance`]) and
    /// kept up to date by [`Store::append_ledger`].
    pub async fn issuance_facts(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        wallet_id: &WalletId,
        hour_since: i64,
        day_since: i64,
    ) -> StoreResult<IssuanceFacts> {
        let wallet_id = wallet_id.as_str();
        let counted = match w.known.issuance.get(wallet_id) {
            Some(c) if c.hour_since == hour_since && c.day_since == day_since => c.clone(),
            _ => {
                w.forget(|k| &mut k.issuance, &wallet_id.to_owned());
                self.load_issuance(w, &[wallet_id], hour_since, day_since)
                    .await?;
                w.known.issuance.get(wallet_id).cloned().unwrap_or_default()
            }
        };
        let standing = self.standing(w, user).await?.unwrap_or_default();
        Ok(IssuanceFacts {
            kyc_status: if standing.metrics.kyc_status.is_empty() {
                "NONE".to_owned()
            } else {
                standing.metrics.kyc_status
            },
            rep_milli: standing.rep_milli,
            device_compliant: standing.device_last_compliant.map(|d| d != 0),
            credits_last_hour: counted.credits_last_hour,
            credited_today: counted.credited_today,
        })
    }

    /// Counts the credits of `wallets` in the issuance windows into `w`, in one statement
    /// (wallets already counted for these windows are skipped).
    pub async fn load_issuance(
        &self,
        w: &mut WriteTx,
        wallets: &[&str],
        hour_since: i64,
        day_since: i64,
    ) -> StoreResult<()> {
        let wallets: Vec<&str> = super::unknown(wallets, |id| {
            w.known
                .issuance
                .get(*id)
                .is_some_and(|c| c.hour_since == hour_since && c.day_since == day_since)
        });
        for chunk in wallets.chunks(500) {
            let list = self.backend.json_list(3);
            let sql = format!(
                // Driven by the list, each count an index range of one wallet (a plan that
                // starts from the ledger scans it).
                "SELECT w.value,
                        (SELECT COUNT(*) FROM wallet_ledgers l
                          WHERE l.wallet_id = w.value AND l.type = 'EARN' AND l.created_at >= $1),
                        (SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM wallet_ledgers l
                          WHERE l.wallet_id = w.value AND l.type = 'EARN' AND l.created_at >= $2)
                 FROM ({list}) AS w"
            );
            let query = sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(sql))
                .bind(hour_since)
                .bind(day_since)
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            let rows = query.fetch_all(w.conn().await?).await?;
            let mut counts: HashMap<&str, (i64, i64)> = rows
                .iter()
                .map(|(id, n, sum)| (id.as_str(), (*n, *sum)))
                .collect();
            for id in chunk {
                let (n, sum) = counts.remove(id).unwrap_or_default();
                w.learn(
                    |k| &mut k.issuance,
                    (*id).to_owned(),
                    Issuance {
                        hour_since,
                        day_since,
                        credits_last_hour: n,
                        credited_today: sum,
                    },
                );
            }
        }
        Ok(())
    }

    /// Records BUZ withheld from a task's credit, inside `w`.
    pub async fn add_withheld(
        &self,
        w: &mut WriteTx,
        task_id: &TaskId,
        user: &UserId,
        amount: i64,
        reason: &str,
    ) -> StoreResult<()> {
        w.pending.withheld.push(WithheldRow {
            id: new_id(),
            task_id: task_id.to_string(),
            user_id: user.to_string(),
            amount,
            reason: reason.to_owned(),
            created_at: self.now_ms(),
        });
        Ok(())
    }

    /// What a task's credit did: (credited, withheld, reason), if it was credited at all.
    pub async fn task_credit(
        &self,
        task_id: &TaskId,
    ) -> StoreResult<Option<(i64, i64, Option<String>)>> {
        let earned: Option<(i64,)> = sqlx::query_as(
            "SELECT amount FROM wallet_ledgers WHERE task_id = $1 AND type = 'EARN'",
        )
        .bind(task_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        let withheld: Option<(i64, String)> =
            sqlx::query_as("SELECT amount, reason FROM buz_withheld WHERE task_id = $1")
                .bind(task_id.as_str())
                .fetch_optional(self.pool())
                .await?;
        if earned.is_none() && withheld.is_none() {
            return Ok(None);
        }
        Ok(Some((
            earned.map(|(a,)| a).unwrap_or(0),
            withheld.as_ref().map(|(a, _)| *a).unwrap_or(0),
            withheld.map(|(_, r)| r),
        )))
    }

    /// Up to `limit` of `user`'s withheld records older than `before` (an id), newest first.
    pub async fn withheld(
        &self,
        user: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<(Vec<WithheldEntry>, bool)> {
        let rows: Vec<WithheldEntry> = sqlx::query_as(
            "SELECT id, task_id, user_id, amount, reason, created_at FROM buz_withheld
             WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(user.as_str())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(super::page(rows, limit))
    }

    /// Up to `limit` entries of `wallet_id` before seq `before`, newest first.
    pub async fn ledger_page(
        &self,
        wallet_id: &WalletId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<(Vec<Entry>, bool)> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM wallet_ledgers WHERE wallet_id = $1 AND ($2 IS NULL OR seq < $2)
             ORDER BY seq DESC LIMIT $3"
        );
        let rows: Vec<EntryColumns> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(wallet_id.as_str())
            .bind(before)
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await?;
        let (rows, more) = super::page(rows, limit);
        Ok((rows.into_iter().map(Entry::from).collect(), more))
    }

    /// Every entry of `wallet_id`, in seq order.
    pub async fn ledger_entries(&self, wallet_id: &WalletId) -> StoreResult<Vec<Entry>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM wallet_ledgers WHERE wallet_id = $1 ORDER BY seq");
        let rows: Vec<EntryColumns> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(wallet_id.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(Entry::from).collect())
    }

    /// Every wallet, by id.
    pub async fn wallets(&self) -> StoreResult<Vec<WalletRow>> {
        let sql = format!("SELECT {WALLET_COLUMNS} FROM wallets ORDER BY id");
        let rows: Vec<WalletRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// The owner of wallet `id`.
    pub async fn wallet_owner(&self, id: &WalletId) -> StoreResult<Option<UserId>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT user_id FROM wallets WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(u,)| UserId(u)))
    }

    /// The breaks of wallet `wallet`'s ledger that `ledger.reanchor` entries of its owner's
    /// chain record.
    pub async fn ledger_reanchors(
        &self,
        owner: &UserId,
        wallet: &WalletId,
    ) -> StoreResult<Vec<hub_rooms::audit::Recorded>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM worm_audits WHERE scope = $1 AND action = 'ledger.reanchor' ORDER BY seq",
        )
        .bind(format!("user:{owner}"))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(details,)| serde_json::from_str::<serde_json::Value>(&details).ok())
            .filter(|d| d.get("wallet_id").and_then(|w| w.as_str()) == Some(wallet.as_str()))
            .filter_map(|d| hub_rooms::audit::Recorded::from_details(&d))
            .collect())
    }
}
