//! Stored notifications: a notification is committed first, then sent live as
//! `notification` to every socket of its user, on every node.

use super::Services;
use hub_protocol::UserId;
use hub_protocol::chat::NotificationData;
use hub_protocol::realtime::server;

impl Services {
    /// Stores a notification of `kind` for `user` and tells them live. A notification that
    /// cannot be stored is logged and not sent (the change that caused it stands).
    pub async fn notify_user(&self, user: &UserId, kind: &str, data: NotificationData) {
        match self.store.add_notification(user, kind, data).await {
            Ok(note) => {
                metrics::counter!("hub_notifications_total", "kind" => kind.to_owned())
                    .increment(1);
                self.notify.to_user(user, server::NOTIFICATION, &note).await;
            }
            Err(e) => tracing::warn!(%user, kind, error = %e, "cannot store a notification"),
        }
    }
}
