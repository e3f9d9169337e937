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
}
