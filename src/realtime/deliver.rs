//! The Socket.IO side of `services::notify`: writes what the services publish to this node's
//! own sockets, one emit per socket from one raw JSON encoding, so that a full buffer is
//! attributable to its socket, which is disconnected as a slow consumer (see [`super::emit`]).

use super::emit;
use crate::services::notify::Sockets;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{RoomRemoved, RoomRoleChanged};
use hub_protocol::{Role, RoomId, SocketId, UserId};
use serde_json::value::RawValue;
use socketioxide::SocketIo;
use socketioxide::socket::Sid;

/// This node's Socket.IO sockets.
pub struct SioSockets(pub SocketIo);

impl Sockets for SioSockets {
    fn deliver(
        &self,
        room: &RoomId,
        event: &str,
        data: &RawValue,
        except_user: Option<&UserId>,
        except_sid: Option<&SocketId>,
    ) {
        let mut to = self.0.to(room.to_string());
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
        for socket in self.0.to(format!("user:{user}")).sockets() {
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
        for socket in self.0.to(format!("user:{user}")).sockets() {
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
}
