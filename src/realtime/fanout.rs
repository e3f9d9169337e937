//! Room fan-out over the [`Bus`]: a handler publishes once; every node (this one included)
//! delivers to its own sockets in the room. The payload is serialized once, as raw JSON, and
//! written to each socket as is, so each socket gets its own emit: a full buffer is
//! attributable to that socket, which is disconnected as a slow consumer (see [`emit`]).
//!
//! Membership changes of sockets (a user removed from a venture leaves its rooms at once; a
//! demoted one's documents turn read-only at once) go the same way, since every node must apply
//! them to its own sockets.

use super::emit;
use crate::bus::{Bus, publish_tagged};
use hub_protocol::Role;
use hub_protocol::UserId;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{RoomRemoved, RoomRoleChanged};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use socketioxide::SocketIo;
use socketioxide::socket::Sid;
use std::sync::Arc;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope<'a> {
    /// `deliver` or `leave`.
    kind: &'a str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
    /// Skip every socket of this user (e.g. not echoing typing to the typist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    except_user: Option<String>,
    /// Skip this one socket (e.g. the sender, who has the ack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    except_sid: Option<String>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
    /// `leave`: the user whose sockets leave `rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// `access`: `user`'s new role in `rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
}

/// Whom a delivery skips.
#[derive(Debug, Default, Clone)]
pub struct Except<'a> {
    pub user: Option<&'a UserId>,
    pub sid: Option<String>,
}

#[derive(Clone)]
pub struct Fanout {
    bus: Arc<dyn Bus>,
}

impl Fanout {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Fanout { bus }
    }

    /// Sends `event` with `data` to every socket in `room`, on every node.
    pub async fn to_room<T: Serialize + ?Sized>(
        &self,
        room: &str,
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
        let envelope = Envelope {
            kind: "deliver",
            room: Some(room.to_owned()),
            event: Some(event.to_owned()),
            except_user: except.user.map(|u| u.to_string()),
            except_sid: except.sid,
            data: Some(&raw),
            user: None,
            rooms: Vec::new(),
            reason: None,
            role: None,
        };
        self.publish(&envelope).await;
    }

    /// Sends `event` to every connection of `user`.
    pub async fn to_user<T: Serialize + ?Sized>(&self, user: &UserId, event: &str, data: &T) {
        self.to_room(&format!("user:{user}"), event, data, Except::default())
            .await;
    }

    /// Makes every socket of `user`, on every node, leave `rooms`, and tells the user why.
    pub async fn remove_from_rooms(&self, user: &UserId, rooms: Vec<String>, reason: &str) {
        let envelope = Envelope {
            kind: "leave",
            room: None,
            event: None,
            except_user: None,
            except_sid: None,
            data: None,
            user: Some(user.to_string()),
            rooms,
            reason: Some(reason.to_owned()),
            role: None,
        };
        self.publish(&envelope).await;
    }

    /// `user`'s role in `rooms` changed to `role`: on every node, their document connections in
    /// those rooms take the new rights, and their sockets are told with `room:role`.
    pub async fn set_role(&self, user: &UserId, rooms: Vec<String>, role: Role) {
        let envelope = Envelope {
            kind: "access",
            room: None,
            event: None,
            except_user: None,
            except_sid: None,
            data: None,
            user: Some(user.to_string()),
            rooms,
            reason: None,
            role: Some(role),
        };
        self.publish(&envelope).await;
    }

    async fn publish(&self, envelope: &Envelope<'_>) {
        publish_tagged(
            self.bus.as_ref(),
            super::state::TAG_FANOUT,
            "fanout",
            envelope,
        )
        .await;
    }
}

/// Delivers one envelope to this node's sockets (and document connections).
pub(super) fn deliver(io: &SocketIo, docs: &crate::docs::Docs, payload: &[u8]) {
    let envelope: Envelope = match serde_json::from_slice(payload) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "undecodable fan-out envelope");
            return;
        }
    };
    match envelope.kind {
        "deliver" => {
            let (Some(room), Some(event), Some(data)) =
                (envelope.room, envelope.event, envelope.data)
            else {
                return;
            };
            let mut to = io.to(room);
            if let Some(user) = &envelope.except_user {
                to = to.except(format!("user:{user}"));
            }
            let skip: Option<Sid> = envelope.except_sid.as_deref().and_then(|s| s.parse().ok());
            for socket in to.sockets() {
                if skip == Some(socket.id) {
                    continue;
                }
                emit::to_socket(&socket, &event, data);
            }
        }
        "leave" => {
            let Some(user) = envelope.user else { return };
            let reason = envelope.reason.unwrap_or_default();
            docs.remove_user(&user, &envelope.rooms);
            for socket in io.to(format!("user:{user}")).sockets() {
                let joined = socket.rooms();
                for room in &envelope.rooms {
                    if joined.iter().any(|r| r.as_ref() == room.as_str()) {
                        socket.leave(room.clone());
                        emit::to_socket(
                            &socket,
                            server::ROOM_REMOVED,
                            &RoomRemoved {
                                room: room.clone(),
                                reason: reason.clone(),
                            },
                        );
                    }
                }
            }
        }
        "access" => {
            let (Some(user), Some(role)) = (envelope.user, envelope.role) else {
                return;
            };
            // Documents first: once the user hears of the change, it is already in force.
            for room in &envelope.rooms {
                docs.set_can_write(&user, room, role.can_edit());
            }
            for socket in io.to(format!("user:{user}")).sockets() {
                for room in &envelope.rooms {
                    emit::to_socket(
                        &socket,
                        server::ROOM_ROLE,
                        &RoomRoleChanged {
                            room: room.clone(),
                            role,
                            can_write: role.can_edit(),
                        },
                    );
                }
            }
        }
        other => tracing::warn!(kind = other, "unknown fan-out envelope"),
    }
}
