//! Stored notifications: a notification is committed first, then sent live as
//! `notification` to every socket of its user, on every node.

use super::effects::Effects;
use super::notify::Notify;
use crate::store::{Store, StoreError, StoreResult, WriteTx};
use hub_protocol::UserId;
use hub_protocol::notifications::{Notification, NotificationBody, NotificationList};
use hub_protocol::realtime::server;

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
        before: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<NotificationList> {
        let limit = hub_rooms::chat::history_limit(limit)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (notifications, has_more) = self
            .store
            .notifications(user, unread, before, limit)
            .await?;
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
        ids: Option<Vec<String>>,
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
        match self.store.add_notification(user, body).await {
            Ok(note) => self.send(user, &note).await,
            Err(e) => tracing::warn!(%user, kind, error = %e, "cannot store a notification"),
        }
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
        let note = self.store.add_notification_in(w, user, body).await?;
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
