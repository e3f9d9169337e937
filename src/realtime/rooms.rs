//! `room:join`, `room:leave`, `presence:set`, `typing:start`, `typing:stop`.

use super::ack::{EventError, malformed, respond};
use super::payload::Payload;
use super::payload::PayloadError;
use crate::auth::Identity;
use crate::services::chat::CatchUp;
use crate::state::Core;
use hub_protocol::realtime::{ClientEvent, Done, client};
use hub_protocol::rooms::{MAX_PRESENCE_META_BYTES, PresenceSet, RoomJoin, RoomJoined, RoomRef};
use hub_protocol::{ErrorCode, Role, SocketId};
use hub_rooms::RoomName;
use socketioxide::extract::{AckSender, Extension, SocketRef, State};

pub fn parse_room(room: &str) -> Result<RoomName, EventError> {
    let name: RoomName = room
        .parse()
        .map_err(|e| EventError::invalid(format!("{e}")))?;
    if !name.is_joinable() {
        return Err(EventError::new(
            ErrorCode::Forbidden,
            "personal rooms cannot be joined",
        ));
    }
    Ok(name)
}

/// The caller's role in `room`, which the socket must have joined, and which the user must
/// still belong to.
pub async fn joined_room(
    s: &SocketRef,
    core: &Core,
    who: &Identity,
    room: &str,
) -> Result<(RoomName, Role), EventError> {
    let name = parse_room(room)?;
    if !s.rooms().iter().any(|r| r.as_ref() == room) {
        return Err(EventError::new(
            ErrorCode::Forbidden,
            format!("join {room} first"),
        ));
    }
    let role = core
        .services
        .access
        .member_recent(&who.user_id, &name)
        .await?;
    Ok((name, role))
}

/// The socket's id, as the services name it.
pub fn sid(s: &SocketRef) -> SocketId {
    SocketId(s.id.to_string())
}

pub async fn join(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<RoomJoin>,
) {
    respond(client::RoomJoinEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::ROOM_JOIN, "{room, since?}"))?;
        let name = parse_room(req.room.as_str())?;
        let role = core.services.access.member(&who.user_id, &name).await?;
        let room = name.id();
        // The socket enters the room once this node knows who is there, so that what the
        // room's other nodes tell of it is in the answer, not announced to it as news.
        let entering = room.to_string();
        core.services
            .presence
            .join(&room, &sid(&s), &who, || s.join(entering))
            .await;
        let (presence, typing) = core.services.presence.snapshot(&room);
        let CatchUp {
            last_seq,
            unread,
            missed,
            recovered,
        } = core
            .services
            .chat
            .catch_up(&room, &who.user_id, req.since)
            .await?;
        Ok(RoomJoined {
            room,
            role,
            presence,
            typing,
            last_seq,
            unread,
            missed,
            recovered,
        })
    })
    .await;
}

pub async fn leave(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<RoomRef>,
) {
    respond(client::RoomLeaveEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::ROOM_LEAVE, "{room}"))?;
        let room = parse_room(req.room.as_str())?.id();
        s.leave(room.to_string());
        core.services
            .presence
            .leave(&room, &sid(&s), &who.user_id)
            .await;
        Ok(RoomRef { room })
    })
    .await;
}

pub async fn set_presence(
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<PresenceSet>,
) {
    respond(client::PresenceSetEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(
            client::PRESENCE_SET,
            "{status: online|away|busy, meta?}",
        ))?;
        let meta = req.meta.unwrap_or(serde_json::Value::Null);
        let size = serde_json::to_string(&meta)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if size > MAX_PRESENCE_META_BYTES {
            return Err(EventError::new(
                ErrorCode::TooLarge,
                format!("meta is {size} bytes; at most {MAX_PRESENCE_META_BYTES}"),
            ));
        }
        core.services
            .presence
            .set_status(&who.user_id, req.status, meta)
            .await;
        Ok(Done {})
    })
    .await;
}

/// `typing:start` (`start`) or `typing:stop`, the event `event`.
async fn typing<E: ClientEvent<Ack = Done>>(
    event: E,
    s: SocketRef,
    ack: AckSender,
    who: Identity,
    core: Core,
    req: Result<RoomRef, PayloadError>,
    start: bool,
) {
    let name = E::NAME;
    respond(event, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(name, "{room}"))?;
        let (name, role) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        if !role.can_edit() {
            return Err(EventError::new(ErrorCode::Forbidden, "viewers do not type"));
        }
        let room = name.id();
        if start {
            core.services
                .presence
                .typing_start(&room, &who.user_id)
                .await;
        } else {
            core.services
                .presence
                .typing_stop(&room, &who.user_id)
                .await;
        }
        Ok(Done {})
    })
    .await;
}

pub async fn typing_start(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<RoomRef>,
) {
    typing(client::TypingStartEvent, s, ack, who, core, req, true).await;
}

pub async fn typing_stop(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<RoomRef>,
) {
    typing(client::TypingStopEvent, s, ack, who, core, req, false).await;
}
