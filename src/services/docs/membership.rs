//! Documents and room membership: a document opens for those in its room, and a change of
//! role or membership reaches the connections of that user on this node at once.

use super::{CloseReason, Conn, ConnKey, Docs, DocsError, LoadedDoc};
use hub_protocol::{DocId, RoomId, UserId};
use std::sync::Arc;

impl Docs {
    /// The loaded document (loading it if needed) and `user`'s role, for those in its room
    /// (see [`crate::services::access::Access::doc`]).
    pub async fn open_visible(
        self: &Arc<Self>,
        user: &UserId,
        id: &DocId,
    ) -> Result<(Arc<LoadedDoc>, hub_protocol::Role), DocsError> {
        let (row, role) = self.access.doc(user, id).await?;
        let room = RoomId::from(row.room);
        Ok((self.open(id, &room).await?, role))
    }

    /// `user` lost access to `rooms`: their connections to the documents of those rooms loaded
    /// here are closed.
    pub fn remove_user(&self, user: &UserId, rooms: &[RoomId]) {
        self.close_user_where(user, |room| rooms.contains(room), CloseReason::AccessLost);
    }

    /// The server API closed `user`'s sessions: their connections to every document loaded
    /// here are closed.
    /// The connections of their own (`/yjs`) open on documents loaded here, for a drain.
    pub fn open_conns(&self) -> Vec<OpenConn> {
        let mut out = Vec::new();
        for doc in self.loaded_where(|_| true) {
            let keys: Vec<ConnKey> = doc
                .lock()
                .conns
                .iter()
                .filter(|(_, c)| c.sink.own_connection())
                .map(|(k, _)| *k)
                .collect();
            out.extend(keys.into_iter().map(|key| OpenConn {
                doc: doc.clone(),
                key,
            }));
        }
        out
    }

    /// Closes `conn` for `why`, if it is still open.
    pub fn close_open(&self, conn: OpenConn, why: CloseReason) {
        let gone = conn.doc.lock().conns.remove(&conn.key);
        if let Some(c) = gone {
            c.sink.close(&conn.doc.id, why);
        }
    }

    pub fn close_user(&self, user: &UserId) {
        self.close_user_where(user, |_| true, CloseReason::SessionClosed);
    }

    fn close_user_where(&self, user: &UserId, in_room: impl Fn(&RoomId) -> bool, why: CloseReason) {
        for doc in self.loaded_where(|d| in_room(&d.room)) {
            let gone: Vec<(ConnKey, Conn)> = {
                let mut inner = doc.lock();
                let keys: Vec<ConnKey> = inner
                    .conns
                    .iter()
                    .filter(|(_, c)| &c.user == user)
                    .map(|(k, _)| *k)
                    .collect();
                keys.into_iter()
                    .filter_map(|k| inner.conns.remove(&k).map(|c| (k, c)))
                    .collect()
            };
            for (_, conn) in gone {
                conn.sink.close(&doc.id, why);
            }
        }
    }

    /// `user`'s role in `room` changed to one that may (or may not) write: their connections to
    /// the documents of that room loaded here take the new right at once.
    pub fn set_can_write(&self, user: &UserId, room: &RoomId, can_write: bool) {
        for doc in self.loaded_where(|d| &d.room == room) {
            let mut inner = doc.lock();
            for conn in inner.conns.values_mut().filter(|c| &c.user == user) {
                conn.can_write = can_write;
            }
        }
    }

    /// Closes one connection with a reason (and forgets it).
    pub fn close_conn(&self, doc: &LoadedDoc, conn: ConnKey, reason: CloseReason) {
        let removed = doc.lock().conns.remove(&conn);
        if let Some(c) = removed {
            c.sink.close(&doc.id, reason);
        }
    }
}

/// A connection of its own open on a loaded document (see [`Docs::open_conns`]).
pub struct OpenConn {
    doc: Arc<LoadedDoc>,
    key: ConnKey,
}
