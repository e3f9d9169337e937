//! Stored notifications: a notification is committed first, then sent live as
//! `notification` to every socket of its user, on every node.

use super::Services;
use hub_protocol::UserId;
use hub_protocol::notifications::{Notification, NotificationBody};
use hub_protocol::realtime::server;

impl Services {
    /// Stores a notification for `user` and tells them live. A notification that cannot be
    /// stored is logged and not sent (the change that caused it stands).
    pub async fn notify_user(&self, user: &UserId, body: NotificationBody) {
        let kind = body.kind();
        match self.store.add_notification(user, body).await {
            Ok(note) => self.send_notification(user, &note).await,
            Err(e) => tracing::warn!(%user, kind, error = %e, "cannot store a notification"),
        }
    }

    /// Sends a stored (committed) notification live to every socket of `user`.
    pub async fn send_notification(&self, user: &UserId, note: &Notification) {
        metrics::counter!("hub_notifications_total", "kind" => note.body.kind()).increment(1);
        self.notify.to_user(user, server::NOTIFICATION, note).await;
    }
}
