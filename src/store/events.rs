//! Events in, stored once by (kind, id), with their audit entry in the same transaction.

use super::{NewAudit, Store, StoreResult, WriteTx};
use hub_protocol::UserId;
use serde_json::Value;

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub user: &'a UserId,
    pub body: &'a Value,
    /// The account that sent it.
    pub by: &'a UserId,
}

impl Store {
    /// Stores `event` inside `w` unless an event of its kind and id is already stored; true
    /// when it is new. A new event is audited in the user's chain (`event.{kind}`) first, so
    /// that every transaction that touches a user takes the chain's head before the user's
    /// rows (one lock order, no deadlock).
    pub async fn insert_event(&self, w: &mut WriteTx, event: NewEvent<'_>) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO events (kind, id, user_id, body, received_by, received_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, id) DO NOTHING",
        )
        .bind(event.kind)
        .bind(event.id)
        .bind(event.user.as_str())
        .bind(hub_rooms::audit::canonical_json(event.body))
        .bind(event.by.as_str())
        .bind(self.now_ms())
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            self.audit(
                w,
                NewAudit {
                    scope: format!("user:{}", event.user),
                    ref_id: Some(event.id),
                    actor_id: Some(event.by.as_str()),
                    action: &format!("event.{}", event.kind),
                    details: event.body.clone(),
                },
            )
            .await?;
            self.ensure_profile(w, event.user).await?;
        }
        Ok(inserted)
    }

    /// The id of a KYC event for `user` reaching `status` that carries no id of its own, read
    /// inside `w`: the id of the event that set the current status when it is `status` already
    /// (so the event is a replay), else the next id for `status` (see
    /// [`hub_rooms::events::kyc_id`]).
    pub async fn kyc_event_id(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        status: &str,
    ) -> StoreResult<String> {
        let first = hub_rooms::events::kyc_id(user.as_str(), status, 0);
        let (current,): (Option<String>,) =
            sqlx::query_as("SELECT (SELECT kyc_status FROM user_stats WHERE user_id = $1)")
                .bind(user.as_str())
                .fetch_one(&mut *w.tx)
                .await?;
        // Events of this user and status without an id of their own: `first`, `first:1`, ...
        let (reached,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM events WHERE kind = 'kyc' AND user_id = $1
             AND (id = $2 OR substr(id, 1, length($2) + 1) = $2 || ':')",
        )
        .bind(user.as_str())
        .bind(&first)
        .fetch_one(&mut *w.tx)
        .await?;
        let reached = reached.max(0) as u64;
        let n = if current.as_deref() == Some(status) {
            reached.saturating_sub(1)
        } else {
            reached
        };
        Ok(hub_rooms::events::kyc_id(user.as_str(), status, n))
    }
}
