//! Stored notifications: a notification is committed first, then sent live as
//! `notification` to every socket of its user, on every node.

use super::effects::Effects;
use super::notify::Notify;
use crate::clock::rfc3339;
use crate::store::{NotificationRow, Store, StoreError, StoreResult, WriteTx};
use hub_protocol::notifications::{Notification, NotificationBody, NotificationList};
use hub_protocol::realtime::server;
use hub_protocol::{NotificationId, UserId};
use serde_json::{Value, json};

/// A stored notification as clients see it; a row whose data no longer decodes for its kind is
/// left out.
fn notification_view(row: NotificationRow) -> Option<Notification> {
    let data: Value = serde_json::from_str(&row.data).ok()?;
    let body: NotificationBody =
        serde_json::from_value(json!({"kind": row.kind, "data": data})).ok()?;
    Some(Notification {
        id: row.id,
        body,
        created_at: rfc3339(row.created_at),
        read: row.read_at.is_some(),
    })
}

/// Most notifications one request marks read by id.
pub const MAX_MARK_READ: usize = 1000;

/// Stored notifications and their live delivery.
#[derive(Clone)]
pub struct Notifications {
    store: Store,
    notify: Notify,
}

impl Notifications {
    pub fn new(store: Store, notify: Notify) -> Notifications {
        Notifications { store, notify }
    }

    /// A page of `user`'s stored notifications, newest first (`unread` only those not yet
    /// read; `limit` 1 to 100, 50 by default), with how many are unread.
    pub async fn page(
        &self,
        user: &UserId,
        unread: bool,
        before: Option<&NotificationId>,
        limit: Option<u32>,
    ) -> StoreResult<NotificationList> {
        let limit = hub_rooms::chat::history_limit(limit)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (rows, has_more) = self
            .store
            .notifications(user, unread, before, limit)
            .await?;
        let notifications = rows.into_iter().filter_map(notification_view).collect();
        let unread_count = self.store.unread_notifications(user).await?;
        Ok(NotificationList {
            notifications,
            unread_count,
            has_more,
        })
    }

    /// Marks the given notifications of `user` read (at most [`MAX_MARK_READ`] at a time), or
    /// all of them; the unread count after.
    pub async fn mark_read(
        &self,
        user: &UserId,
        ids: Option<Vec<NotificationId>>,
        all: Option<bool>,
    ) -> StoreResult<i64> {
        let ids = match (ids, all) {
            (Some(ids), None | Some(false)) if ids.len() <= MAX_MARK_READ => Some(ids),
            (Some(_), None | Some(false)) => {
                return Err(StoreError::Invalid(format!(
                    "ids: at most {MAX_MARK_READ} at a time"
                )));
            }
            (None, Some(true)) => None,
            _ => {
                return Err(StoreError::Invalid(
                    "give either {ids: [...]} or {all: true}".into(),
                ));
            }
        };
        self.store
            .mark_notifications_read(user, ids.as_deref())
            .await
    }

    /// Stores a notification for `user` and tells them live. A notification that cannot be
    /// stored is logged and not sent (the change that caused it stands).
    pub async fn add(&self, user: &UserId, body: NotificationBody) {
        let kind = body.kind();
        let stored = async {
            let mut w = self.store.begin_write().await?;
            let note = self.store_in(&mut w, user, body).await?;
            w.commit().await?;
            Ok::<_, StoreError>(note)
        };
        match stored.await {
            Ok(note) => self.send(user, &note).await,
            Err(e) => tracing::warn!(%user, kind, error = %e, "cannot store a notification"),
        }
    }

    /// Stores `body` for `user` inside `w`, as it will be sent.
    async fn store_in(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        body: NotificationBody,
    ) -> StoreResult<Notification> {
        let encoded = serde_json::to_value(&body)
            .map_err(|e| StoreError::Invalid(format!("notification data: {e}")))?;
        let data = encoded.get("data").cloned().unwrap_or(Value::Null);
        let row = self
            .store
            .add_notification(w, user, body.kind(), data.to_string())
            .await?;
        Ok(Notification {
            id: row.id,
            body,
            created_at: rfc3339(row.created_at),
            read: false,
        })
    }

    /// Stores a notification for `user` inside `w`; it is sent live once `w` commits (see
    /// [`super::after_commit`]).
    pub async fn add_in(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
        body: NotificationBody,
    ) -> StoreResult<()> {
        let note = self.store_in(w, user, body).await?;
        fx.notes.push((user.clone(), note));
        Ok(())
    }

    /// Sends a stored (committed) notification live to every socket of `user`.
    pub async fn send(&self, user: &UserId, note: &Notification) {
        metrics::counter!("hub_notifications_total", "kind" => note.body.kind()).increment(1);
        self.notify
            .to_user(user, server::NotificationEvent, note)
            .await;
    }
}
