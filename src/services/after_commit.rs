//! The after-commit work of domain transactions (see [`super::effects`]): live notifications
//! and pushes, feed entries, leaderboards. A failure here is logged; the committed change
//! stands.

use super::activity::Activity;
use super::effects::{Effects, FeedTo};
use super::leaderboards::Leaderboards;
use super::notifications::Notifications;
use super::notify::Notify;
use crate::store::{Store, StoreResult, WriteTx};
use hub_protocol::{UserId, VentureId};
use std::collections::HashMap;

#[derive(Clone)]
pub struct AfterCommit {
    store: Store,
    notify: Notify,
    notifications: Notifications,
    activity: Activity,
    leaderboards: Leaderboards,
}

impl AfterCommit {
    pub fn new(
        store: Store,
        notify: Notify,
        notifications: Notifications,
        activity: Activity,
        leaderboards: Leaderboards,
    ) -> AfterCommit {
        AfterCommit {
            store,
            notify,
            notifications,
            activity,
            leaderboards,
        }
    }

    /// Commits `w`, then does what it left to do.
    pub async fn finish(&self, w: WriteTx, fx: Effects) -> StoreResult<()> {
        w.commit().await?;
        self.apply(fx).await;
        Ok(())
    }

    /// The after-commit work of one transaction.
    pub async fn apply(&self, fx: Effects) {
        self.apply_all(vec![(fx, None)]).await
    }

    /// [`AfterCommit::apply`] for the writes of a batch, in order, each one's `done` told once
    /// its own effects are out. Whose ventures the feed entries and leaderboards need is read
    /// once for the whole batch.
    pub async fn apply_all(&self, batch: Vec<(Effects, Option<tokio::sync::oneshot::Sender<()>>)>) {
        let mut users: Vec<&UserId> = Vec::new();
        for (fx, _) in &batch {
            users.extend(fx.feed.iter().filter_map(|e| match &e.to {
                FeedTo::VenturesOf(user) => Some(user),
                FeedTo::Venture(_) => None,
            }));
            users.extend(fx.boards.iter().map(|(user, _)| user));
        }
        let ventures_of = if users.is_empty() {
            Ok(HashMap::new())
        } else {
            self.store.venture_ids_of_many(&users).await
        };
        let ventures_of = match ventures_of {
            Ok(map) => map,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list users' ventures for the feed and leaderboards");
                HashMap::new()
            }
        };
        let none: Vec<VentureId> = Vec::new();
        let of = |user: &UserId| ventures_of.get(user).unwrap_or(&none);
        for (fx, done) in batch {
            for (user, note) in &fx.notes {
                self.notifications.send(user, note).await;
            }
            for (user, event, data) in &fx.pushes {
                self.notify.send_to_user(user, event, data).await;
            }
            for entry in fx.feed {
                let ventures = match &entry.to {
                    FeedTo::Venture(v) => std::slice::from_ref(v),
                    FeedTo::VenturesOf(user) => of(user).as_slice(),
                };
                for venture in ventures {
                    self.activity
                        .record(
                            venture,
                            entry.actor.as_ref(),
                            &entry.verb,
                            (&entry.object.0, &entry.object.1),
                            entry.data.clone(),
                        )
                        .await;
                }
            }
            for (user, by) in fx.boards {
                for venture in of(&user) {
                    self.leaderboards.changed(venture, by);
                }
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
    }
}
