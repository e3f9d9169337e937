//! `chat:send`, `chat:edit`, `chat:delete`, `chat:react`, `chat:history`, `chat:thread`,
//! `chat:read`: decode, check the socket is in the room, call `services::chat`, ack.

use super::ack::{malformed, respond};
use super::payload::Payload;
use super::rooms::joined_room;
use crate::auth::Identity;
use crate::state::Core;
use hub_protocol::chat::{
    ChatEdit, ChatHistory, ChatReact, ChatRead, ChatSend, MessageAck, MessagePage, MessageRef,
    Unread,
};
use hub_protocol::realtime::client;
use socketioxide::extract::{AckSender, Extension, SocketRef, State};

pub async fn send(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatSend>,
) {
    respond(client::ChatSendEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(
            client::CHAT_SEND,
            "{room, client_id, body, reply_to?}",
        ))?;
        let (room, role) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let message = core
            .services
            .chat
            .send(&who, &room, role, &req, Some(super::rooms::sid(&s)))
            .await?;
        Ok(MessageAck { message })
    })
    .await;
}

pub async fn edit(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatEdit>,
) {
    respond(client::ChatEditEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_EDIT, "{room, id, body}"))?;
        let (room, role) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let message = core
            .services
            .chat
            .edit(&who, &room, role, &req.id, &req.body)
            .await?;
        Ok(MessageAck { message })
    })
    .await;
}

pub async fn delete(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<MessageRef>,
) {
    respond(client::ChatDeleteEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_DELETE, "{room, id}"))?;
        let (room, role) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let message = core
            .services
            .chat
            .delete(&who, &room, role, &req.id)
            .await?;
        Ok(MessageAck { message })
    })
    .await;
}

pub async fn react(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatReact>,
) {
    respond(client::ChatReactEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_REACT, "{room, id, emoji, add}"))?;
        let (room, role) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let message = core
            .services
            .chat
            .react(&who, &room, role, &req.id, &req.emoji, req.add)
            .await?;
        Ok(MessageAck { message })
    })
    .await;
}

pub async fn history(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatHistory>,
) {
    respond(client::ChatHistoryEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(
            client::CHAT_HISTORY,
            "{room, before?, after?, limit?}",
        ))?;
        let (room, _) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let (messages, has_more) = core
            .services
            .chat
            .history(&room, req.before, req.after, req.limit)
            .await?;
        Ok(MessagePage { messages, has_more })
    })
    .await;
}

pub async fn thread(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<MessageRef>,
) {
    respond(client::ChatThreadEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_THREAD, "{room, id}"))?;
        let (room, _) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        Ok(core.services.chat.thread(&room, &req.id).await?)
    })
    .await;
}

pub async fn read(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatRead>,
) {
    respond(client::ChatReadEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_READ, "{room, seq}"))?;
        let (room, _) = joined_room(&s, &core, &who, req.room.as_str()).await?;
        let unread = core
            .services
            .chat
            .read(&room, &who.user_id, req.seq)
            .await?;
        Ok(Unread { unread })
    })
    .await;
}
