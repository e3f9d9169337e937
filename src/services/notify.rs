//! `notify`: the one way a service reaches people live. A service publishes once on the
//! [`Bus`]; every node (this one included) receives it, applies what concerns its documents,
//! and hands the rest to its [`Sockets`] (the Socket.IO transport), which writes the payload,
//! serialized once as raw JSON, to each of its own sockets in the room.
//!
//! Membership changes (a user removed from a venture leaves its rooms at once; a demoted one's
//! documents turn read-only at once) go the same way, since every node must apply them to its
//! own connections.

use crate::bus::{Bus, publish_tagged};
use crate::services::docs::Docs;
use hub_protocol::Role;
use hub_protocol::UserId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

/// The connection side of notify, implemented by the transport that holds sockets.
pub trait Sockets: Send + Sync {
    /// Writes `event` with `data` (raw JSON, encoded once) to every local socket in `room`,
    /// but those of `except_user` and the socket `except_sid`.
    fn deliver(
        &self,
        room: &str,
        event: &str,
        data: &RawValue,
        except_user: Option<&str>,
        except_sid: Option<&str>,
    );
    /// Every local socket of `user` leaves `rooms` and is told why (`room:removed`).
    fn leave(&self, user: &str, rooms: &[String], reason: &str);
    /// Every local socket of `user` hears its new `role` in `rooms` (`room:role`).
    fn role_changed(&self, user: &str, rooms: &[String], role: Role);
}

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
pub struct Notify {
    bus: Arc<dyn Bus>,
}

impl Notify {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Notify { bus }
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
        publish_tagged(self.bus.as_ref(), super::TAG_FANOUT, "fanout", envelope).await;
    }
}

/// Applies one envelope from the bus on this node: its documents first, then its sockets.
pub(super) fn receive(sockets: &dyn Sockets, docs: &Docs, payload: &[u8]) {
    let envelope: Envelope = match serde_json::from_slice(payload) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "undecodable notify envelope");
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
            sockets.deliver(
                &room,
                &event,
                data,
                envelope.except_user.as_deref(),
                envelope.except_sid.as_deref(),
            );
        }
        "leave" => {
            let Some(user) = envelope.user else { return };
            docs.remove_user(&user, &envelope.rooms);
            sockets.leave(&user, &envelope.rooms, &envelope.reason.unwrap_or_default());
        }
        "access" => {
            let (Some(user), Some(role)) = (envelope.user, envelope.role) else {
                return;
            };
            // Documents first: once the user hears of the change, it is already in force.
            for room in &envelope.rooms {
                docs.set_can_write(&user, room, role.can_edit());
            }
            sockets.role_changed(&user, &envelope.rooms, role);
        }
        other => tracing::warn!(kind = other, "unknown notify envelope"),
    }
}
