//! The Socket.IO side of `services::notify`: writes what the services publish to this node's
//! own sockets, one emit per socket from one raw JSON encoding, so that a full buffer is
//! attributable to its socket, which is disconnected as a slow consumer (see [`super::emit`]).

use super::emit;
use crate::services::notify::Sockets;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{RoomRemoved, RoomRoleChanged};
use hub_protocol::server::SessionClosed;
use hub_protocol::{Role, RoomId, SocketId, UserId};
use serde_json::value::RawValue;
use socketioxide::SocketIo;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;

/// This node's Socket.IO sockets.
pub struct SioSockets(pub SocketIo);

impl SioSockets {
    /// The sockets in `room`; none once the namespace is gone (the node is shutting down
    /// while the bus still delivers).
    fn room(&self, room: String) -> Option<BroadcastOperators<LocalAdapter>> {
        self.0.of("/").map(|ns| ns.to(room))
    }

    fn users_sockets(&self, user: &UserId) -> Vec<SocketRef> {
        self.room(format!("user:{user}"))
            .map(|to| to.sockets())
            .unwrap_or_default()
    }
}

impl Sockets for SioSockets {
    fn deliver(
        &self,
        room: &RoomId,
        event: &str,
        data: &RawValue,
        except_user: Option<&UserId>,
        except_sid: Option<&SocketId>,
    ) {
        let Some(mut to) = self.room(room.to_string()) else {
            return;
        };
        if let Some(user) = except_user {
            to = to.except(format!("user:{user}"));
        }
        let skip: Option<Sid> = except_sid.and_then(|s| s.as_str().parse().ok());
        for socket in to.sockets() {
            if skip == Some(socket.id) {
                continue;
            }
            emit::relayed(&socket, event, data);
        }
    }

    fn leave(&self, user: &UserId, rooms: &[RoomId], reason: &str) {
        for socket in self.users_sockets(user) {
            let joined = socket.rooms();
            for room in rooms {
                if joined.iter().any(|r| r.as_ref() == room.as_str()) {
                    socket.leave(room.to_string());
                    emit::to_socket(
                        &socket,
                        server::RoomRemovedEvent,
                        &RoomRemoved {
                            room: room.clone(),
                            reason: reason.to_owned(),
                        },
                    );
                }
            }
        }
    }

    fn role_changed(&self, user: &UserId, rooms: &[RoomId], role: Role) {
        for socket in self.users_sockets(user) {
            for room in rooms {
                emit::to_socket(
                    &socket,
                    server::RoomRoleEvent,
                    &RoomRoleChanged {
                        room: room.clone(),
                        role,
                        can_write: role.can_edit(),
                    },
                );
            }
        }
    }

    fn close(&self, user: &UserId, closed: &SessionClosed) {
        for socket in self.users_sockets(user) {
            emit::to_socket(&socket, server::SessionClosedEvent, closed);
            emit::disconnect(&socket);
        }
    }
}
