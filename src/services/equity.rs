//! Conversion windows and equity conversions.
//!
//! - Windows move SCHEDULED → OPEN → CLOSED → FINALIZED by the hub's clock: the
//!   `conversion-windows` job moves them (and schedules the next quarter's window with the last
//!   rate when none covers it), and every request or decision first moves the windows that are
//!   due, so nothing depends on when the job last ran.
//! - A request locks its BUZ (`LOCK`); the venture's owners or an admin approve it (`SPEND`,
//!   equity = floor(buz × rate / 1000) basis points) or reject it (`UNLOCK`); requests still
//!   pending when their window closes expire (`UNLOCK`). Each decision notifies the requester
//!   (`conversion_decided`) and is recorded in the venture's audit chain.

use super::access::Access;
use super::badges::Badges;
use super::effects::Effects;
use super::notifications::Notifications;
use super::wallets::{WalletError, Wallets, wallet_changed};
use super::webhooks::Outbox;
use super::writes::Writes;
use crate::clock::{SharedClock, rfc3339};
use crate::store::{
    ConversionRow, NewAudit, Refs, Stat, Store, StoreError, WindowRow, WriteTx, new_id,
};
use hub_protocol::equity::{Conversion, ConversionWindow, ConvertRequest, CreateWindow, Decide};
use hub_protocol::notifications::{ConversionDecidedData, NotificationBody};
use hub_protocol::{ConversionId, Role, UserId, VentureId, WindowId};
use hub_rooms::fields::{FieldError, required_text, text};
use hub_rooms::wallets::{
    CLOSED, EntryType, FINALIZED, OPEN, SCHEDULED, equity_bp, next_quarter, next_status,
};
use serde_json::json;
use std::sync::Arc;

impl WindowRow {
    /// The window as clients see it.
    pub fn view(&self) -> ConversionWindow {
        ConversionWindow {
            id: self.id.clone(),
            name: self.name.clone(),
            opens_at: rfc3339(self.opens_at),
            closes_at: rfc3339(self.closes_at),
            equity_rate_bps: self.rate_bps,
            status: self.status.clone(),
        }
    }
}

impl ConversionRow {
    /// The request as clients see it.
    pub fn view(&self) -> Conversion {
        Conversion {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            venture_id: self.venture_id.clone(),
            window_id: self.window_id.clone(),
            status: self.status.clone(),
            buz_used: self.buz_used,
            equity_granted_bp: self.equity_granted_bp,
            note: self.note.clone(),
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
        }
    }
}

fn parse_time(field: &str, value: &str) -> Result<i64, FieldError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|_| FieldError::new(field, "an RFC 3339 time, such as 2027-01-01T00:00:00Z"))
}

/// Conversion windows and equity conversions.
#[derive(Clone)]
pub struct Equity {
    store: Store,
    wallets: Wallets,
    writes: Arc<Writes>,
    access: Access,
    badges: Badges,
    notifications: Notifications,
    outbox: Outbox,
    clock: SharedClock,
}

impl Equity {
    pub fn new(
        store: Store,
        wallets: Wallets,
        writes: Arc<Writes>,
        access: Access,
        badges: Badges,
        notifications: Notifications,
        outbox: Outbox,
        clock: SharedClock,
    ) -> Equity {
        Equity {
            store,
            wallets,
            writes,
            access,
            badges,
            notifications,
            outbox,
            clock,
        }
    }

    /// Adds a window (admin).
    pub async fn create_window(
        &self,
        body: &CreateWindow,
        by: &UserId,
    ) -> Result<ConversionWindow, WalletError> {
        let name = required_text("name", &body.name, 80)?;
        let opens = parse_time("opens_at", &body.opens_at)?;
        let closes = parse_time("closes_at", &body.closes_at)?;
        if closes <= opens {
            return Err(FieldError::new("closes_at", "must be after opens_at").into());
        }
        let now = self.clock.now_ms();
        if closes <= now {
            return Err(FieldError::new("closes_at", "must be in the future").into());
        }
        if !(1..=10_000).contains(&body.equity_rate_bps) {
            return Err(FieldError::new("equity_rate_bps", "1 to 10000").into());
        }
        let status = next_status(SCHEDULED, opens, closes, now);
        let row = self
            .add_window(&name, opens, closes, body.equity_rate_bps, status, Some(by))
            .await
            .map_err(conflict)?;
        Ok(row.view())
    }

    /// Adds a window, recorded in the system chain (`window.created`, by `by` or the hub);
    /// `Conflict` when it overlaps another. The entry is written first: taking the chain's
    /// head serializes window creation, so two overlapping windows cannot both pass.
    async fn add_window(
        &self,
        name: &str,
        opens_at: i64,
        closes_at: i64,
        rate_bps: i64,
        status: &str,
        by: Option<&UserId>,
    ) -> Result<WindowRow, StoreError> {
        let mut w = self.store.begin_write().await?;
        let id = new_id();
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: "system".into(),
                    ref_id: Some(&id),
                    actor_id: by.map(UserId::as_str),
                    action: "window.created",
                    details: json!({"name": name, "opens_at": opens_at,
                        "closes_at": closes_at, "equity_rate_bps": rate_bps}),
                },
            )
            .await?;
        let row = self
            .store
            .insert_window(
                &mut w,
                WindowId(id),
                name,
                opens_at,
                closes_at,
                rate_bps,
                status,
            )
            .await?;
        w.commit().await?;
        Ok(row)
    }

    /// Every window, newest first (due moves applied).
    pub async fn windows(&self) -> Result<Vec<ConversionWindow>, WalletError> {
        self.advance_windows().await?;
        Ok(self
            .store
            .windows()
            .await?
            .iter()
            .map(|w| w.view())
            .collect())
    }

    /// The window open now, if any.
    pub async fn active_window(&self) -> Result<Option<ConversionWindow>, WalletError> {
        Ok(self.windows().await?.into_iter().find(|w| w.status == OPEN))
    }

    /// Moves every window that is due, expiring the requests of those that close. Answers how
    /// many windows moved.
    pub async fn advance_windows(&self) -> Result<u64, WalletError> {
        let now = self.clock.now_ms();
        let mut moved = 0;
        for window in self.store.windows().await? {
            if window.status == FINALIZED {
                continue;
            }
            let next = next_status(&window.status, window.opens_at, window.closes_at, now);
            if next == window.status {
                continue;
            }
            let mut w = self.store.begin_write().await?;
            let current = self.store.lock_window(&mut w, &window.id).await?;
            if current.as_ref().map(|c| c.status.as_str()) != Some(window.status.as_str()) {
                continue; // another node moved it
            }
            self.store
                .set_window_status(&mut w, &window.id, next)
                .await?;
            w.commit().await?;
            moved += 1;
            if next == CLOSED || next == FINALIZED {
                for id in self.store.pending_conversions(&window.id).await? {
                    self.expire(&id).await?;
                }
            }
        }
        Ok(moved)
    }

    /// `conversion-windows`: moves the windows and schedules the next quarter's with the last
    /// rate when no window covers it.
    pub async fn conversion_windows_job(&self) -> Result<serde_json::Value, WalletError> {
        let moved = self.advance_windows().await?;
        let now = self.clock.now_ms();
        let (name, start, end) = next_quarter(now);
        let windows = self.store.windows().await?;
        let covered = windows
            .iter()
            .any(|w| w.opens_at < end && w.closes_at > start);
        let mut scheduled = None;
        if !covered && let Some(last) = windows.first() {
            match self
                .add_window(&name, start, end, last.rate_bps, SCHEDULED, None)
                .await
            {
                Ok(row) => scheduled = Some(row.view()),
                // Another node scheduled it first.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(json!({"moved": moved, "scheduled": scheduled}))
    }

    /// Requests a conversion: locks `req.buz` of `user`'s available BUZ.
    pub async fn convert(
        &self,
        user: &UserId,
        req: &ConvertRequest,
    ) -> Result<Conversion, WalletError> {
        if req.buz <= 0 {
            return Err(FieldError::new("buz", "must be more than 0").into());
        }
        self.access
            .venture(
                super::access::Caller {
                    user,
                    privileged: false,
                },
                &req.venture_id,
            )
            .await?;
        self.advance_windows().await?;
        let now = self.clock.now_ms();
        let (who, req, s) = (user.clone(), req.clone(), self.clone());
        self.writes
            .write::<_, WalletError, _>(&[user], move |w, fx| {
                Box::pin(async move {
                    let mut wallet = s.store.lock_wallet(w, &who).await?;
                    let window = s
                        .store
                        .lock_window(w, &req.window_id)
                        .await?
                        .ok_or_else(|| WalletError::NotFound("no such conversion window".into()))?;
                    if window.status != OPEN || now < window.opens_at || now >= window.closes_at {
                        return Err(WalletError::Conflict(format!(
                            "the window is {}, not OPEN",
                            window.status
                        )));
                    }
                    let available = wallet.balance - wallet.pending;
                    if req.buz > available {
                        return Err(WalletError::Conflict(format!(
                            "not enough BUZ: {available} available"
                        )));
                    }
                    let row = ConversionRow {
                        id: ConversionId(new_id()),
                        user_id: who.clone(),
                        wallet_id: wallet.id.clone(),
                        window_id: window.id.clone(),
                        venture_id: req.venture_id.clone(),
                        buz_used: req.buz,
                        status: "PENDING".into(),
                        equity_granted_bp: None,
                        note: None,
                        decided_by: None,
                        decided_at: None,
                        created_at: now,
                    };
                    s.store.add_conversion(w, &row).await?;
                    s.wallets
                        .append(
                            w,
                            &mut wallet,
                            EntryType::Lock,
                            req.buz,
                            Refs {
                                conversion_id: Some(row.id.as_str()),
                                ..Refs::default()
                            },
                        )
                        .await
                        .map_err(conflict)?;
                    wallet_changed(fx, &wallet);
                    let requested = row.view();
                    s.outbox
                        .emit(&s.store, w, "conversion.requested", None, &requested)
                        .await?;
                    Ok(requested)
                })
            })
            .await
    }

    /// The venture's owners or an admin (`privileged`) decide request `id`, never its requester
    /// (see [`hub_rooms::wallets::may_decide_conversion`]).
    pub async fn decide(
        &self,
        by: &UserId,
        privileged: bool,
        id: &ConversionId,
        decision: &Decide,
    ) -> Result<Conversion, WalletError> {
        let note = match &decision.note {
            Some(n) => Some(text("note", n, 280, true)?).filter(|n| !n.is_empty()),
            None => None,
        };
        let found = self
            .store
            .conversion(id)
            .await?
            .ok_or_else(|| WalletError::NotFound("no such conversion request".into()))?;
        let is_owner = if privileged {
            false
        } else {
            let role = self
                .access
                .venture(
                    super::access::Caller {
                        user: by,
                        privileged: false,
                    },
                    &found.venture_id,
                )
                .await
                .map_err(|e| match e {
                    super::access::AccessError::NotFound(_) => {
                        WalletError::NotFound("no such conversion request".into())
                    }
                    other => other.into(),
                })?
                .1;
            role == Some(Role::Owner)
        };
        hub_rooms::wallets::may_decide_conversion(
            found.user_id.as_str(),
            by.as_str(),
            is_owner,
            privileged,
        )
        .map_err(|why| WalletError::Forbidden(why.into()))?;
        self.advance_windows().await?;
        let now = self.clock.now_ms();
        let (who, by, id_owned, decision, s) = (
            found.user_id.clone(),
            by.clone(),
            id.clone(),
            decision.clone(),
            self.clone(),
        );
        self.writes
            .write::<_, WalletError, _>(&[&found.user_id], move |w, fx| {
                Box::pin(async move {
                    let mut wallet = s.store.lock_wallet(w, &who).await?;
                    let conv = s
                        .store
                        .lock_conversion(w, &id_owned)
                        .await?
                        .ok_or_else(|| {
                            WalletError::NotFound("no such conversion request".into())
                        })?;
                    if conv.status != "PENDING" {
                        return Err(WalletError::Conflict(format!(
                            "the request is already {}",
                            conv.status
                        )));
                    }
                    let window = s
                        .store
                        .lock_window(w, &conv.window_id)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    if window.status != OPEN || now >= window.closes_at {
                        return Err(WalletError::Conflict("the window has closed".into()));
                    }
                    let (status, kind, bp) = if decision.approve {
                        (
                            "APPROVED",
                            EntryType::Spend,
                            Some(equity_bp(conv.buz_used, window.rate_bps)),
                        )
                    } else {
                        ("REJECTED", EntryType::Unlock, None)
                    };
                    s.wallets
                        .append(
                            w,
                            &mut wallet,
                            kind,
                            conv.buz_used,
                            Refs {
                                conversion_id: Some(conv.id.as_str()),
                                note: note.as_deref(),
                                ..Refs::default()
                            },
                        )
                        .await
                        .map_err(conflict)?;
                    s.store
                        .settle_conversion(w, &conv.id, status, bp, Some(&by), note.as_deref())
                        .await?;
                    if decision.approve {
                        s.store
                            .bump_stat(w, &conv.user_id, Stat::EquityConversions, 1)
                            .await?;
                        if s.store.first_window_id(w).await?.as_ref() == Some(&conv.window_id) {
                            s.store
                                .bump_stat(w, &conv.user_id, Stat::FirstWindowConversions, 1)
                                .await?;
                        }
                        s.badges.evaluate(w, fx, &conv.user_id).await?;
                    }
                    s.settled(w, fx, &conv, status, bp, Some(&by), note.as_deref())
                        .await?;
                    wallet_changed(fx, &wallet);
                    Ok(())
                })
            })
            .await?;
        let done = self
            .store
            .conversion(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(done.view())
    }

    /// Expires a request still pending when its window closed: its BUZ is unlocked.
    async fn expire(&self, id: &ConversionId) -> Result<(), WalletError> {
        let Some(found) = self.store.conversion(id).await? else {
            return Ok(());
        };
        let (who, id, s) = (found.user_id.clone(), id.to_owned(), self.clone());
        self.writes
            .write::<_, WalletError, _>(&[&found.user_id], move |w, fx| {
                Box::pin(async move {
                    let mut wallet = s.store.lock_wallet(w, &who).await?;
                    let Some(conv) = s.store.lock_conversion(w, &id).await? else {
                        return Ok(());
                    };
                    if conv.status != "PENDING" {
                        return Ok(());
                    }
                    s.wallets
                        .append(
                            w,
                            &mut wallet,
                            EntryType::Unlock,
                            conv.buz_used,
                            Refs {
                                conversion_id: Some(conv.id.as_str()),
                                note: Some("the window closed"),
                                ..Refs::default()
                            },
                        )
                        .await?;
                    s.store
                        .settle_conversion(w, &conv.id, "EXPIRED", None, None, None)
                        .await?;
                    s.settled(w, fx, &conv, "EXPIRED", None, None, None).await?;
                    wallet_changed(fx, &wallet);
                    Ok(())
                })
            })
            .await
    }

    /// Records a settled request in the venture's chain and tells the requester.
    #[allow(clippy::too_many_arguments)]
    async fn settled(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        conv: &ConversionRow,
        status: &str,
        bp: Option<i64>,
        by: Option<&UserId>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.store
            .audit(
                w,
                NewAudit {
                    scope: format!("venture:{}", conv.venture_id),
                    ref_id: Some(conv.id.as_str()),
                    actor_id: by.map(UserId::as_str),
                    action: &format!("equity.{}", status.to_lowercase()),
                    details: json!({"user_id": conv.user_id, "window_id": conv.window_id,
                                    "buz_used": conv.buz_used, "equity_granted_bp": bp, "note": note}),
                },
            )
            .await?;
        let data = ConversionDecidedData {
            conversion_id: conv.id.clone(),
            venture_id: conv.venture_id.clone(),
            status: status.to_owned(),
            buz_used: conv.buz_used,
            equity_granted_bp: bp,
            note: note.map(str::to_owned),
        };
        self.outbox
            .emit(
                &self.store,
                w,
                "conversion.decided",
                None,
                &json!({"user_id": conv.user_id, "decided_by": by, "conversion": data}),
            )
            .await?;
        self.notifications
            .add_in(
                w,
                fx,
                &conv.user_id,
                NotificationBody::ConversionDecided(data),
            )
            .await
    }

    /// `user`'s requests, or a venture's for its owners and admins.
    pub async fn conversions(
        &self,
        user: &UserId,
        privileged: bool,
        venture: Option<&VentureId>,
    ) -> Result<Vec<Conversion>, WalletError> {
        let rows = match venture {
            None => self.store.conversions(Some(user), None).await?,
            Some(v) => {
                let (_, role) = self
                    .access
                    .venture(super::access::Caller { user, privileged }, v)
                    .await?;
                if !privileged && role != Some(Role::Owner) {
                    return Err(WalletError::Forbidden(
                        "a venture's requests are for its owners and admins".into(),
                    ));
                }
                self.store.conversions(None, Some(v)).await?
            }
        };
        Ok(rows.iter().map(|r| r.view()).collect())
    }
}

fn conflict(e: StoreError) -> WalletError {
    match e {
        StoreError::Conflict(m) => WalletError::Conflict(m),
        other => other.into(),
    }
}
