//! What a transaction leaves to do once it is committed. A use case writes its rows, its audit
//! entries and its notifications in one transaction and collects here what may only happen
//! after the commit: notifications sent live, feed entries, leaderboards to refresh. Nothing
//! reaches a person before the change it tells of is durable.

use super::Services;
use crate::store::{BoardBy, StoreResult, WriteTx};
use hub_protocol::notifications::Notification;
use hub_protocol::realtime::ServerEvent;
use hub_protocol::{UserId, VentureId};
use serde_json::Value;
use std::collections::HashMap;

/// Where a feed entry goes.
#[derive(Debug, Clone)]
pub enum FeedTo {
    Venture(VentureId),
    /// Every venture the user is a member of.
    VenturesOf(UserId),
}

#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub to: FeedTo,
    pub actor: Option<UserId>,
    pub verb: String,
    pub object: (String, String),
    pub data: Value,
}

/// The after-commit work of one transaction.
#[derive(Debug, Default)]
pub struct Effects {
    /// Stored in the transaction; sent live after it.
    pub notes: Vec<(UserId, Notification)>,
    pub feed: Vec<FeedEntry>,
    /// Users whose standing changed: the leaderboards of their ventures are refreshed.
    pub boards: Vec<(UserId, BoardBy)>,
    /// Pushes to one user's sockets: event name and payload, made by [`Effects::push`].
    pushes: Vec<(UserId, &'static str, Value)>,
}

impl Effects {
    /// A push of the server event `E` to `user`'s sockets after the commit, replacing an
    /// earlier push of the same event to the same user in this transaction (the last state
    /// is the one worth sending).
    pub fn push<E: ServerEvent>(&mut self, user: &UserId, _event: E, data: &E::Payload) {
        let data = match serde_json::to_value(data) {
            Ok(data) => data,
            Err(e) => {
                tracing::error!(event = E::NAME, error = %e, "cannot serialize a push");
                return;
            }
        };
        self.pushes
            .retain(|(u, event, _)| !(u == user && *event == E::NAME));
        self.pushes.push((user.clone(), E::NAME, data));
    }

    pub fn feed(
        &mut self,
        to: FeedTo,
        actor: Option<&UserId>,
        verb: &str,
        object: (&str, &str),
        data: Value,
    ) {
        self.feed.push(FeedEntry {
            to,
            actor: actor.cloned(),
            verb: verb.to_owned(),
            object: (object.0.to_owned(), object.1.to_owned()),
            data,
        });
    }

    pub fn board(&mut self, user: &UserId, by: BoardBy) {
        if !self.boards.iter().any(|(u, b)| u == user && *b == by) {
            self.boards.push((user.clone(), by));
        }
    }
}

impl Services {
    /// Stores a notification inside `w`; it is sent live once `w` commits (see
    /// [`Services::finish`]).
    pub async fn note(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
        body: hub_protocol::notifications::NotificationBody,
    ) -> StoreResult<()> {
        let note = self.store.add_notification_in(w, user, body).await?;
        fx.notes.push((user.clone(), note));
        Ok(())
    }

    /// Commits `w`, then does what it left to do.
    pub async fn finish(&self, w: WriteTx, fx: Effects) -> StoreResult<()> {
        w.commit().await?;
        self.apply(fx).await;
        Ok(())
    }

    /// The after-commit work: live notifications and pushes, feed entries, leaderboards. A
    /// failure here is logged; the committed change stands.
    pub async fn apply(&self, fx: Effects) {
        self.apply_all(vec![(fx, None)]).await
    }

    /// [`Services::apply`] for the writes of a batch, in order, each one's `done` told once its
    /// own effects are out. Whose ventures the feed entries and leaderboards need is read once
    /// for the whole batch.
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
                self.send_notification(user, note).await;
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
                    self.record_activity(
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
                    self.leaderboard_changed(venture, by);
                }
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
    }
}
