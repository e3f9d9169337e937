//! Wallets: BUZ issuance from accepted tasks (through the gates of `hub_rooms::wallets`), the
//! ledger and its verification, withheld BUZ, and admins' adjustments.
//!
//! A credit happens in the transaction of its event, under the wallet's row lock; what the
//! gates withhold is recorded with its reason, never dropped. After the commit the owner hears
//! `wallet:updated` on every socket, on every node, and a `buz_credited` notification; the
//! task's venture feed records `buz.credited`.

use super::effects::{Effects, FeedTo};
use super::notifications::Notifications;
use super::webhooks::Outbox;
use super::writes::Writes;
use crate::clock::rfc3339;
use crate::store::{
    NewAudit, Refs, Store, StoreError, StoreResult, WalletRow, WithheldEntry, WriteTx,
};
use hub_protocol::events::TaskAccepted;
use hub_protocol::notifications::{BuzData, NotificationBody};
use hub_protocol::realtime::server;
use hub_protocol::wallets::{
    BrokenLedgerEntry, BuzOutcome, LedgerEntry, LedgerPage, Wallet, WalletUpdated, WalletVerify,
    WithheldBuz, WithheldList,
};
use hub_protocol::{UserId, VentureId};
use hub_rooms::audit::{Broken, Head, fingerprint, is_recorded};
use hub_rooms::fields::{FieldError, required_text};
use hub_rooms::wallets::{
    Entry, EntryType, Gates, Standing, issuance_windows, issue, task_buz, walk_against,
};
use serde_json::json;
use std::sync::Arc;

/// The issuance settings.
#[derive(Debug, Clone, Default)]
pub struct BuzConfig {
    pub gates: Gates,
}

/// The issuance gates' flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BuzArgs {
    /// Credit BUZ only to users whose KYC passed.
    #[arg(long, env = "HUB_BUZ_REQUIRE_KYC", default_value_t = Gates::DEFAULT.require_kyc, action = clap::ArgAction::Set)]
    pub buz_require_kyc: bool,
    /// The least reputation a user needs to be credited BUZ.
    #[arg(long, env = "HUB_BUZ_MIN_REPUTATION", default_value_t = Gates::DEFAULT.min_reputation)]
    pub buz_min_reputation: f64,
    /// The most BUZ credits a user receives in an hour (velocity).
    #[arg(long, env = "HUB_BUZ_MAX_CREDITS_PER_HOUR", default_value_t = Gates::DEFAULT.max_credits_per_hour)]
    pub buz_max_credits_per_hour: i64,
    /// The most BUZ a user is credited in a UTC day.
    #[arg(long, env = "HUB_BUZ_DAILY_CAP", default_value_t = Gates::DEFAULT.daily_cap)]
    pub buz_daily_cap: i64,
}

impl BuzArgs {
    pub fn resolve(&self) -> anyhow::Result<BuzConfig> {
        if !self.buz_min_reputation.is_finite()
            || self.buz_min_reputation < 0.0
            || self.buz_max_credits_per_hour < 0
            || self.buz_daily_cap < 0
        {
            anyhow::bail!(
                "HUB_BUZ_MIN_REPUTATION, HUB_BUZ_MAX_CREDITS_PER_HOUR and HUB_BUZ_DAILY_CAP must be 0 or more"
            );
        }
        Ok(BuzConfig {
            gates: Gates {
                require_kyc: self.buz_require_kyc,
                min_reputation: self.buz_min_reputation,
                max_credits_per_hour: self.buz_max_credits_per_hour,
                daily_cap: self.buz_daily_cap,
            },
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(WalletError, access);

impl crate::error::DomainError for WalletError {
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            WalletError::Field(_) => ErrorCode::Invalid,
            WalletError::NotFound(_) => ErrorCode::NotFound,
            WalletError::Forbidden(_) => ErrorCode::Forbidden,
            WalletError::Conflict(_) => ErrorCode::Conflict,
            WalletError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            WalletError::Store(s) => s.public_message(),
            WalletError::Field(f) => f.public_message(),
            other => other.to_string(),
        }
    }

    fn refusal(&self) -> Option<crate::error::Refusal> {
        match self {
            WalletError::Field(f) => f.refusal(),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Wallets {
    store: Store,
    writes: Arc<Writes>,
    notifications: Notifications,
    outbox: Outbox,
    buz: BuzConfig,
}

impl Wallets {
    pub fn new(
        store: Store,
        writes: Arc<Writes>,
        notifications: Notifications,
        outbox: Outbox,
        buz: BuzConfig,
    ) -> Wallets {
        Wallets {
            store,
            writes,
            notifications,
            outbox,
            buz,
        }
    }

    /// The issuance settings.
    pub fn buz(&self) -> &BuzConfig {
        &self.buz
    }

    /// Credits the BUZ of an accepted task inside its event's transaction `w` (the user's chain
    /// head already taken), through the gates; a credit is told in `venture`'s feed (the task's,
    /// when it exists).
    pub async fn credit_task(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        e: &TaskAccepted,
        venture: Option<&VentureId>,
    ) -> StoreResult<BuzOutcome> {
        let user = &e.user_id;
        let computed = task_buz(&e.tier, e.quality, e.reviewer_trust);
        let mut wallet = self.store.lock_wallet(w, user).await?;
        let (hour_since, day_since) = issuance_windows(w.now());
        let facts = self
            .store
            .issuance_facts(w, user, &wallet.id, hour_since, day_since)
            .await?;
        let standing = Standing {
            kyc_status: facts.kyc_status,
            reputation: facts.rep_milli as f64 / 1000.0,
            device_compliant: facts.device_compliant,
            credits_last_hour: facts.credits_last_hour,
            credited_today: facts.credited_today,
        };
        let mut out = issue(computed, &self.buz.gates, &standing);
        // A wallet holds at most MAX_BUZ: what would pass it is withheld, and the event stands.
        let room = (hub_rooms::wallets::MAX_BUZ - wallet.balance).max(0);
        if out.credited > room {
            out.withheld += out.credited - room;
            out.credited = room;
            out.reason = Some(hub_rooms::wallets::Withheld::BalanceLimit);
        }
        let reason = out.reason.map(|r| r.as_str().to_owned());
        if out.credited > 0 {
            self.append(
                w,
                &mut wallet,
                EntryType::Earn,
                out.credited,
                Refs {
                    task_id: Some(e.task_id.as_str()),
                    ..Refs::default()
                },
            )
            .await?;
            wallet_changed(fx, &wallet);
            metrics::counter!("hub_buz_credited_total").increment(out.credited as u64);
            if let Some(venture) = venture {
                fx.feed(
                    FeedTo::Venture(venture.clone()),
                    Some(user),
                    "buz.credited",
                    ("task", e.task_id.as_str()),
                    json!({"amount": out.credited, "withheld": out.withheld}),
                );
            }
        }
        if out.withheld > 0 {
            let why = reason.as_deref().unwrap_or("withheld");
            self.store
                .add_withheld(w, &e.task_id, user, out.withheld, why)
                .await?;
            metrics::counter!("hub_buz_withheld_total", "reason" => why.to_owned())
                .increment(out.withheld as u64);
        }
        let data = BuzData {
            task_id: e.task_id.clone(),
            credited: out.credited,
            withheld: out.withheld,
            reason: reason.clone(),
            buz_balance: wallet.balance,
        };
        let hook = json!({
            "user_id": user,
            "task_id": e.task_id,
            "venture_id": venture,
            "credited": out.credited,
            "withheld": out.withheld,
            "reason": reason,
            "buz_balance": wallet.balance,
        });
        if out.credited > 0 {
            self.outbox
                .emit(&self.store, w, "task.credited", None, &hook)
                .await?;
        }
        if out.withheld > 0 {
            self.outbox
                .emit(&self.store, w, "task.withheld", None, &hook)
                .await?;
        }
        let body = if out.credited > 0 {
            NotificationBody::BuzCredited(data)
        } else {
            NotificationBody::BuzWithheld(data)
        };
        self.notifications.add_in(w, fx, user, body).await?;
        Ok(BuzOutcome {
            computed,
            credited: out.credited,
            withheld: out.withheld,
            reason,
        })
    }

    /// Appends an entry to `wallet`'s ledger inside `w` (the wallet locked) and records it in
    /// the owner's audit chain (`wallet.{kind}`, with its seq, amount, balance and hash).
    /// `Conflict` for what would take the balance or the lock below zero, the lock above the
    /// balance, or the balance past `MAX_BUZ`.
    pub async fn append(
        &self,
        w: &mut WriteTx,
        wallet: &mut WalletRow,
        kind: EntryType,
        amount: i64,
        refs: Refs<'_>,
    ) -> StoreResult<Entry> {
        let e = self
            .store
            .append_ledger(w, wallet, kind, amount, refs)
            .await?;
        self.store
            .audit(
                w,
                NewAudit {
                    scope: format!("user:{}", wallet.user_id),
                    ref_id: Some(&e.id),
                    actor_id: None,
                    action: &format!("wallet.{}", kind.as_str().to_lowercase()),
                    details: json!({"wallet_id": e.wallet_id, "seq": e.seq, "amount": e.amount,
                                    "balance_after": e.balance_after, "hash": e.hash}),
                },
            )
            .await?;
        Ok(e)
    }

    /// What the first delivery of task event `e` did to the wallet (for a replay's answer).
    pub async fn task_outcome(&self, e: &TaskAccepted) -> StoreResult<Option<BuzOutcome>> {
        Ok(self
            .store
            .task_credit(&e.task_id)
            .await?
            .map(|(credited, withheld, reason)| BuzOutcome {
                computed: credited + withheld,
                credited,
                withheld,
                reason,
            }))
    }

    /// An existing user's wallet, for an operator: `not_found` for a user the hub never saw.
    pub async fn wallet_of_user(&self, user: &UserId) -> Result<WalletRow, WalletError> {
        if self.store.profile(user).await?.is_none() {
            return Err(WalletError::NotFound("no such user".into()));
        }
        Ok(self.wallet_of(user).await?)
    }

    pub async fn wallet_of(&self, user: &UserId) -> StoreResult<WalletRow> {
        self.store.wallet(user).await
    }

    /// A page of `user`'s ledger, newest first.
    pub async fn ledger(
        &self,
        user: &UserId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<LedgerPage> {
        let wallet = self.store.wallet(user).await?;
        let (entries, has_more) = self.store.ledger_page(&wallet.id, before, limit).await?;
        Ok(LedgerPage {
            entries: entries.into_iter().map(ledger_view).collect(),
            has_more,
        })
    }

    pub async fn withheld(
        &self,
        user: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<WithheldList> {
        let (withheld, has_more) = self.store.withheld(user, before, limit).await?;
        Ok(WithheldList {
            withheld: withheld.into_iter().map(withheld_view).collect(),
            has_more,
        })
    }

    /// Re-walks `user`'s ledger and re-adds its amounts.
    pub async fn verify_wallet(&self, user: &UserId) -> StoreResult<WalletVerify> {
        let wallet = self.store.wallet(user).await?;
        Ok(self.verify(&wallet).await?.0)
    }

    async fn verify(&self, wallet: &WalletRow) -> StoreResult<(WalletVerify, Option<Broken>)> {
        let entries = self.store.ledger_entries(&wallet.id).await?;
        let recorded = self
            .store
            .ledger_reanchors(&wallet.user_id, &wallet.id)
            .await?;
        let head = Head {
            seq: wallet.seq,
            hash: wallet.head_hash.clone(),
        };
        let found = walk_against(&entries, Some(&head), &recorded);
        // The balances the ledger gives: the walk's, or, past a break, the amounts re-added
        // whatever the links say.
        let (balance, pending) = if found.first_broken.is_none() {
            (found.balance, found.pending)
        } else {
            entries
                .iter()
                .fold((0i64, 0i64), |(b, p), e| match EntryType::parse(&e.kind) {
                    Some(kind) => {
                        let (db, dp) = kind.moves(e.amount);
                        (b.saturating_add(db), p.saturating_add(dp))
                    }
                    None => (b, p),
                })
        };
        let balance_matches = balance == wallet.balance && pending == wallet.pending;
        // A wallet whose balances are not what its ledger says is a finding of its own.
        let mismatch = (!balance_matches)
            .then(|| Broken {
                seq: wallet.seq,
                id: wallet.id.to_string(),
                reason: format!(
                    "the wallet holds {} (locked {}) but its ledger adds up to {balance} (locked {pending})",
                    wallet.balance, wallet.pending
                ),
                fingerprint: fingerprint(&[
                    wallet.id.as_str(),
                    &wallet.seq.to_string(),
                    &wallet.balance.to_string(),
                    &wallet.pending.to_string(),
                    &balance.to_string(),
                    &pending.to_string(),
                ]),
            })
            .filter(|b| !is_recorded(&recorded, b));
        let first_broken = found.first_broken.clone().map(|b| BrokenLedgerEntry {
            seq: b.seq,
            id: b.id,
            reason: b.reason,
        });
        Ok((
            WalletVerify {
                ok: first_broken.is_none() && mismatch.is_none(),
                entries: entries.len() as i64,
                balance_matches,
                first_broken,
            },
            found.first_broken.or(mismatch),
        ))
    }

    /// Every wallet, with how many entries its ledger holds and the first break found in
    /// it (or in its balances), if any.
    pub async fn verify_all(&self) -> StoreResult<Vec<(WalletRow, u64, Option<Broken>)>> {
        let mut found = Vec::new();
        for wallet in self.store.wallets().await? {
            let (report, finding) = self.verify(&wallet).await?;
            found.push((wallet, report.entries as u64, finding));
        }
        Ok(found)
    }

    /// An admin's correction of `user`'s balance by `amount` (signed), with a note.
    pub async fn adjust(
        &self,
        by: &UserId,
        user: &UserId,
        amount: i64,
        note: &str,
    ) -> Result<LedgerEntry, WalletError> {
        let note = required_text("note", note, 280)?;
        if amount == 0 {
            return Err(FieldError::new("amount", "must not be 0").into());
        }
        let max = hub_rooms::wallets::MAX_BUZ;
        if amount.checked_abs().is_none_or(|a| a > max) {
            return Err(FieldError::new(
                "amount",
                format!("at most {max} BUZ (2^53 - 1) either way"),
            )
            .into());
        }
        if !hub_rooms::room::valid_id(user.as_str()) {
            return Err(FieldError::new("user_id", "not a user id").into());
        }
        let (who, by, s) = (user.clone(), by.clone(), self.clone());
        self.writes
            .write::<_, WalletError, _>(&[user], move |w, fx| {
                Box::pin(async move {
                    let mut wallet = s.store.lock_wallet(w, &who).await?;
                    let note = format!("{note} (by {by})");
                    let entry = s
                        .append(
                            w,
                            &mut wallet,
                            EntryType::Adjust,
                            amount,
                            Refs {
                                note: Some(&note),
                                ..Refs::default()
                            },
                        )
                        .await
                        .map_err(|e| match e {
                            StoreError::Conflict(m) => WalletError::Conflict(m),
                            other => other.into(),
                        })?;
                    wallet_changed(fx, &wallet);
                    Ok(ledger_view(entry))
                })
            })
            .await
    }
}

impl WalletRow {
    /// The wallet as its owner (or an operator) sees it.
    pub fn view(&self) -> Wallet {
        Wallet {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            buz_balance: self.balance,
            pending_lock: self.pending,
            available: (self.balance - self.pending).max(0),
            chain_address: self.chain_address.clone(),
            chain_type: self.chain_type.clone(),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

/// A ledger entry as clients see it.
pub fn ledger_view(e: Entry) -> LedgerEntry {
    LedgerEntry {
        id: e.id,
        wallet_id: e.wallet_id.into(),
        seq: e.seq,
        kind: e.kind,
        amount: e.amount,
        balance_after: e.balance_after,
        task_id: e.task_id.map(Into::into),
        review_id: e.review_id,
        conversion_id: e.conversion_id.map(Into::into),
        note: e.note,
        created_at: rfc3339(e.created_at),
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

/// A withheld credit as its user sees it.
fn withheld_view(w: WithheldEntry) -> WithheldBuz {
    WithheldBuz {
        id: w.id,
        task_id: w.task_id,
        user_id: w.user_id,
        amount: w.amount,
        reason: w.reason,
        created_at: rfc3339(w.created_at),
    }
}

/// Tells the owner's sockets of the wallet's new state, after the commit.
pub(super) fn wallet_changed(fx: &mut Effects, wallet: &WalletRow) {
    let update = WalletUpdated {
        buz_balance: wallet.balance,
        pending_lock: wallet.pending,
        available: (wallet.balance - wallet.pending).max(0),
    };
    fx.push(&wallet.user_id, server::WalletUpdatedEvent, &update);
}
