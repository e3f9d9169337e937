//! What a transaction leaves to do once it is committed. A use case writes its rows, its audit
//! entries and its notifications in one transaction and collects here what may only happen
//! after the commit: notifications sent live, feed entries, leaderboards to refresh. Nothing
//! reaches a person before the change it tells of is durable.

use crate::store::BoardBy;
use hub_protocol::notifications::Notification;
use hub_protocol::realtime::ServerEvent;
use hub_protocol::{UserId, VentureId};
use serde_json::Value;

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
    pub(super) pushes: Vec<(UserId, &'static str, Value)>,
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
