//! `notify`: the one way a service reaches people live. A service publishes once on the
//! [`Bus`], on the room's topic (a user's: their personal room's); every node that holds a
//! connection there (this one included) receives it, applies what concerns its documents, and
//! hands the rest to its [`Sockets`] (the Socket.IO transport), which writes the payload,
//! serialized once as raw JSON, to each of its own sockets in the room.
//!
//! Membership changes (a user removed from a venture leaves its rooms at once; a demoted one's
//! documents turn read-only at once) and revocations go on the control topic, since every node
//! must apply them (to its connections, and to what it remembers of roles and tokens).
//!
//! What each node works out for itself from its replica (presence and typing announcements)
//! is written to its own sockets with [`Notify::here`], without crossing the bus.

use crate::bus::{Bus, BusMessage, Notice, Topic, publish};
use hub_protocol::Role;
use hub_protocol::realtime::ServerEvent;
use hub_protocol::server::{SessionCloseCode, SessionClosed};
use hub_protocol::{RoomId, SocketId, UserId};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::{Arc, OnceLock, Weak};

/// The connection side of notify, implemented by the transport that holds sockets.
pub trait Sockets: Send + Sync {
    /// Writes `event` with `data` (raw JSON, encoded once) to every local socket in `room`,
    /// but those of `except_user` and the socket `except_sid`.
    fn deliver(
        &self,
        room: &RoomId,
        event: &str,
        data: &RawValue,
        except_user: Option<&UserId>,
        except_sid: Option<&SocketId>,
    );
    /// Every local socket of `user` leaves `rooms` and is told why (`room:removed`).
    fn leave(&self, user: &UserId, rooms: &[RoomId], reason: &str);
    /// Every local socket of `user` hears its new `role` in `rooms` (`room:role`).
    fn role_changed(&self, user: &UserId, rooms: &[RoomId], role: Role);
    /// Every local socket of `user` is told `closed` (`session:closed`) and disconnected.
    fn close(&self, user: &UserId, closed: &SessionClosed);
}

/// Whom a delivery skips.
#[derive(Debug, Default, Clone)]
pub struct Except<'a> {
    pub user: Option<&'a UserId>,
    pub sid: Option<SocketId>,
}

#[derive(Clone)]
pub struct Notify {
    bus: Arc<dyn Bus>,
    /// This node's sockets, once the transport started. Weak: the transport holds the
    /// services, and the services must not keep the transport alive after it stopped.
    sockets: Arc<OnceLock<Weak<dyn Sockets>>>,
}

impl Notify {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Notify {
            bus,
            sockets: Arc::default(),
        }
    }

    /// This node's sockets, for what is written here without crossing the bus.
    pub(super) fn attach(&self, sockets: &Arc<dyn Sockets>) {
        let _ = self.sockets.set(Arc::downgrade(sockets));
    }

    /// Writes the server event `E` with `data` to this node's own sockets in `room` (what
    /// every node works out for itself, such as presence from its replica).
    pub(super) fn here<E: ServerEvent>(
        &self,
        room: &RoomId,
        _event: E,
        data: &E::Payload,
        except: Except<'_>,
    ) {
        let Some(sockets) = self.sockets.get().and_then(Weak::upgrade) else {
            return;
        };
        match serde_json::value::to_raw_value(data) {
            Ok(raw) => sockets.deliver(room, E::NAME, &raw, except.user, except.sid.as_ref()),
            Err(e) => tracing::error!(event = E::NAME, error = %e, "cannot serialize event"),
        }
    }

    /// Sends the server event `E` with `data` to every socket in `room`, on every node.
    pub async fn to_room<E: ServerEvent>(
        &self,
        room: &RoomId,
        _event: E,
        data: &E::Payload,
        except: Except<'_>,
    ) {
        self.send(room, E::NAME, data, except).await;
    }

    /// Sends `event` with `data`, typed by whoever made it (see [`super::effects::Effects`]),
    /// to every socket in `room`, on every node.
    pub(super) async fn send<T: Serialize + ?Sized>(
        &self,
        room: &RoomId,
        event: &str,
        data: &T,
        except: Except<'_>,
    ) {
        let raw = match serde_json::value::to_raw_value(data) {
            Ok(raw) => raw,
            Err(e) => {
                tracing::error!(event, error = %e, "cannot serialize event");
                return;
            }
        };
        self.publish(
            &Topic::room(room),
            Notice::Deliver {
                room: room.clone(),
                event: event.to_owned(),
                data: raw,
                except_user: except.user.cloned(),
                except_sid: except.sid,
            },
        )
        .await;
    }

    /// Sends the server event `E` to every connection of `user`.
    pub async fn to_user<E: ServerEvent>(&self, user: &UserId, event: E, data: &E::Payload) {
        self.to_room(&Self::user_room(user), event, data, Except::default())
            .await;
    }

    /// Sends `event`, typed where it was made, to every connection of `user`.
    pub(super) async fn send_to_user<T: Serialize + ?Sized>(
        &self,
        user: &UserId,
        event: &str,
        data: &T,
    ) {
        self.send(&Self::user_room(user), event, data, Except::default())
            .await;
    }

    /// The room every socket of `user` is in.
    pub fn user_room(user: &UserId) -> RoomId {
        RoomId::from(format!("user:{user}"))
    }

    /// Makes every socket of `user`, on every node, leave `rooms`, and tells the user why.
    pub async fn remove_from_rooms(&self, user: &UserId, rooms: Vec<RoomId>, reason: &str) {
        self.publish(
            &Topic::control(),
            Notice::Leave {
                user: user.clone(),
                rooms,
                reason: reason.to_owned(),
            },
        )
        .await;
    }

    /// `user`'s role in `rooms` changed to `role`: on every node, their document connections in
    /// those rooms take the new rights, and their sockets are told with `room:role`.
    pub async fn set_role(&self, user: &UserId, rooms: Vec<RoomId>, role: Role) {
        self.publish(
            &Topic::control(),
            Notice::Access {
                user: user.clone(),
                rooms,
                role,
            },
        )
        .await;
    }

    /// Closes every connection of `user` on every node, saying why; with `revoked_before`,
    /// every node refuses their tokens issued before it from then on (so it goes to every
    /// node; a plain disconnect goes to the nodes that hold the user's connections).
    pub async fn close_sessions(
        &self,
        user: &UserId,
        code: SessionCloseCode,
        reason: &str,
        revoked_before: Option<i64>,
    ) {
        let topic = match revoked_before {
            Some(_) => Topic::control(),
            None => Topic::room(&Self::user_room(user)),
        };
        self.publish(
            &topic,
            Notice::Close {
                user: user.clone(),
                code,
                reason: reason.to_owned(),
                revoked_before,
            },
        )
        .await;
    }

    /// The webhook endpoints changed: every node reads them again.
    pub async fn webhooks_changed(&self) {
        self.publish(&Topic::control(), Notice::Webhooks).await;
    }

    async fn publish(&self, topic: &Topic, notice: Notice) {
        publish(self.bus.as_ref(), topic, &BusMessage::Notify(notice)).await;
    }
}
