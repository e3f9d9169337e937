//! Badges: the catalog (rules checked by `hub_rooms::badges` when written), evaluation (after
//! each event that changes a metric, hourly by `badges-hourly`, daily after reputation, and on
//! demand) and awards. An award happens once per user and badge; it brings XP, notifies the
//! user (`badge_awarded`), is recorded in their audit chain (`badge.awarded`) and, once
//! committed, in the feed of their ventures.

use super::effects::{Effects, FeedTo};
use super::notifications::Notifications;
use super::webhooks::Outbox;
use super::writes::Writes;
use super::xp::Xp;
use crate::store::{BadgeCountRow, BadgeRow, NewAudit, Store, StoreError, StoreResult, WriteTx};
use hub_protocol::UserId;
use hub_protocol::badges::{Badge, BadgeAward, CreateBadge, PatchBadge};
use hub_protocol::notifications::{BadgeAwardedData, NotificationBody};
use hub_rooms::badges::{check_code, parse};
use hub_rooms::fields::{FieldError, required_text, text};
use hub_rooms::gamification::BADGE_XP;
use serde_json::json;
use std::sync::Arc;

/// Why a badge change or award was refused.
#[derive(Debug, thiserror::Error)]
pub enum BadgeError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("no badge {0}")]
    Unknown(String),
    /// Awarded by hand only once the rest of its rule holds.
    #[error("{0}")]
    NotYet(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(BadgeError);

/// A catalog badge as clients see it.
fn badge_view(row: BadgeCountRow) -> Badge {
    Badge {
        code: row.code,
        name: row.name,
        description: row.description,
        rule: serde_json::from_str(&row.rule).unwrap_or_default(),
        awarded_count: row.awarded_count,
    }
}

const MAX_NAME: usize = 80;
const MAX_DESCRIPTION: usize = 280;
/// Users read at a time by the jobs that walk every user.
pub const BATCH: u32 = 100;

#[derive(Clone)]
pub struct Badges {
    store: Store,
    writes: Arc<Writes>,
    xp: Xp,
    notifications: Notifications,
    outbox: Outbox,
}

impl Badges {
    pub fn new(
        store: Store,
        writes: Arc<Writes>,
        xp: Xp,
        notifications: Notifications,
        outbox: Outbox,
    ) -> Badges {
        Badges {
            store,
            writes,
            xp,
            notifications,
            outbox,
        }
    }

    /// The public badge catalog, with how many times each was awarded.
    pub async fn catalog(&self) -> StoreResult<Vec<Badge>> {
        Ok(self
            .store
            .badges()
            .await?
            .into_iter()
            .map(badge_view)
            .collect())
    }

    /// Evaluates every automatic badge `user` does not hold yet and awards those whose rule
    /// holds, inside `w`; answers the codes awarded.
    pub async fn evaluate(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
    ) -> StoreResult<Vec<String>> {
        let metrics = self.store.metrics(w, user).await?;
        let held = self.store.awarded_codes(w, user).await?;
        let mut awarded = Vec::new();
        for badge in self.store.badge_rows(w).await?.iter() {
            if held.contains(&badge.code) {
                continue;
            }
            let Ok(rule) = parse(&badge.rule) else {
                tracing::warn!(code = %badge.code, "a stored badge rule does not parse; skipped");
                continue;
            };
            if rule.holds(&metrics) && self.award(w, fx, user, &badge, "rule", None).await? {
                awarded.push(badge.code.clone());
            }
        }
        Ok(awarded)
    }

    /// Awards `badge` to `user` inside `w`; false when they already had it (nothing changes).
    pub async fn award(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
        badge: &BadgeRow,
        reason: &str,
        by: Option<&UserId>,
    ) -> StoreResult<bool> {
        self.store.lock_users(w, &[user]).await?;
        let Some(_at) = self
            .store
            .award_badge(w, user, &badge.code, reason, by)
            .await?
        else {
            return Ok(false);
        };
        self.store
            .audit(
                w,
                NewAudit {
                    scope: format!("user:{user}"),
                    ref_id: Some(&badge.code),
                    actor_id: by.map(UserId::as_str),
                    action: "badge.awarded",
                    details: json!({"code": badge.code, "reason": reason}),
                },
            )
            .await?;
        self.outbox
            .emit(
                &self.store,
                w,
                "badge.awarded",
                None,
                &json!({"user_id": user, "code": badge.code, "name": badge.name, "reason": reason, "by": by}),
            )
            .await?;
        self.xp
            .grant(w, fx, user, "badge", &badge.code, BADGE_XP)
            .await?;
        let data = BadgeAwardedData {
            code: badge.code.clone(),
            name: badge.name.clone(),
            reason: reason.to_owned(),
            xp: BADGE_XP,
        };
        self.notifications
            .add_in(w, fx, user, NotificationBody::BadgeAwarded(data))
            .await?;
        fx.feed(
            FeedTo::VenturesOf(user.clone()),
            Some(user),
            "badge.awarded",
            ("badge", &badge.code),
            json!({"user_id": user, "name": badge.name}),
        );
        metrics::counter!("hub_badges_awarded_total", "code" => badge.code.clone()).increment(1);
        Ok(true)
    }

    /// Evaluates `user`'s badges in a transaction of its own.
    pub async fn evaluate_user(&self, user: &UserId) -> StoreResult<Vec<String>> {
        let (who, this) = (user.clone(), self.clone());
        self.writes
            .write::<_, StoreError, _>(&[user], move |w, fx| {
                Box::pin(async move { this.evaluate(w, fx, &who).await })
            })
            .await
    }

    /// `badges-hourly`: evaluates every user, in batches of 100.
    pub async fn hourly(&self) -> StoreResult<serde_json::Value> {
        let (mut users, mut awarded) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let batch = self.store.users_after(after.as_deref(), BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.user.to_string());
            for row in batch {
                users += 1;
                awarded += self.evaluate_user(&row.user).await?.len() as u64;
            }
        }
        Ok(json!({"users": users, "badges_awarded": awarded}))
    }

    /// Adds a badge to the catalog (admin).
    pub async fn create(&self, body: &CreateBadge) -> Result<Badge, BadgeError> {
        check_code(&body.code)?;
        let row = BadgeRow {
            code: body.code.clone(),
            name: required_text("name", &body.name, MAX_NAME)?,
            description: text("description", &body.description, MAX_DESCRIPTION, false)?,
            // Stored in its one form, whichever of the accepted forms it came in.
            rule: parse(&body.rule)?.to_json(),
        };
        self.store.create_badge(&row).await?;
        Ok(self
            .store
            .badge(&row.code)
            .await?
            .map(badge_view)
            .ok_or(StoreError::NotFound)?)
    }

    /// Changes a badge (admin); a new rule applies from the next evaluation.
    pub async fn patch(&self, code: &str, patch: &PatchBadge) -> Result<Badge, BadgeError> {
        let current = self
            .store
            .badge(code)
            .await?
            .ok_or_else(|| BadgeError::Unknown(code.to_owned()))?;
        let row = BadgeRow {
            code: code.to_owned(),
            name: match &patch.name {
                Some(n) => required_text("name", n, MAX_NAME)?,
                None => current.name,
            },
            description: match &patch.description {
                Some(d) => text("description", d, MAX_DESCRIPTION, false)?,
                None => current.description,
            },
            rule: match &patch.rule {
                Some(rule) => parse(rule)?.to_json(),
                None => serde_json::from_str(&current.rule).unwrap_or_default(),
            },
        };
        self.store.update_badge(&row).await?;
        Ok(self
            .store
            .badge(code)
            .await?
            .map(badge_view)
            .ok_or(StoreError::NotFound)?)
    }

    /// Awards `code` to `user` by hand (admin), whatever its rule.
    pub async fn award_by_hand(
        &self,
        code: &str,
        user: &UserId,
        reason: Option<&str>,
        by: &UserId,
    ) -> Result<BadgeAward, BadgeError> {
        if !hub_rooms::room::valid_id(user.as_str()) {
            return Err(
                FieldError::new("user_id", "1 to 128 characters without spaces or ':'").into(),
            );
        }
        let reason = match reason {
            Some(r) => text("reason", r, MAX_DESCRIPTION, false)?,
            None => String::new(),
        };
        let reason = if reason.is_empty() {
            "awarded by an admin".to_owned()
        } else {
            reason
        };
        let (who, code_owned, by) = (user.clone(), code.to_owned(), by.clone());
        let s = self.clone();
        let awarded = self
            .writes
            .write::<_, BadgeError, _>(&[user], move |w, fx| {
                Box::pin(async move {
                let (user, code) = (&who, code_owned.as_str());
                let badge = s
                    .store
                    .badge_rows(w)
                    .await?
                    .iter()
                    .find(|b| b.code == code)
                    .cloned()
                    .ok_or_else(|| BadgeError::Unknown(code.to_owned()))?;
                // A COMPOSITE `all` with MANUAL in it: an admin awards it once the rest holds.
                if let Ok(rule) = parse(&badge.rule) {
                    let metrics = s.store.metrics(w, user).await?;
                    if !rule.may_award_by_hand(&metrics) {
                        return Err(BadgeError::NotYet(format!(
                            "{user} does not meet the rest of {code}'s rule yet: an admin awards it once the rest holds"
                        )));
                    }
                }
                let awarded = s
                    .award(w, fx, user, &badge, &reason, Some(&by))
                    .await?;
        Ok(awarded)
                })
            })
            .await?;
        let (reason, at) = self
            .store
            .badge_award(user, code)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(BadgeAward {
            code: code.to_owned(),
            user_id: user.clone(),
            awarded,
            reason,
            awarded_at: crate::clock::rfc3339(at),
        })
    }
}

impl crate::error::DomainError for BadgeError {
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            BadgeError::Field(_) => ErrorCode::Invalid,
            BadgeError::Unknown(_) => ErrorCode::NotFound,
            BadgeError::NotYet(_) => ErrorCode::Conflict,
            BadgeError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            BadgeError::Store(s) => s.public_message(),
            BadgeError::Field(f) => f.public_message(),
            other => other.to_string(),
        }
    }

    fn refusal(&self) -> Option<crate::error::Refusal> {
        match self {
            BadgeError::Field(f) => f.refusal(),
            _ => None,
        }
    }
}
