//! `chat:send`, `chat:edit`, `chat:delete`, `chat:react`, `chat:history`, `chat:thread`,
//! `chat:read`. A send is committed before its ack; the message then goes to the room (all
//! sockets but the sender's, which has the ack) and mentioned members get a `notification`.

use super::ack::{EventError, malformed, respond};
use super::payload::Payload;
use super::rooms::joined_room;
use crate::auth::Identity;
use crate::services::notify::Except;
use crate::state::Core;
use crate::store::NewMessage;
use hub_protocol::chat::{
    ChatEdit, ChatHistory, ChatReact, ChatRead, ChatSend, Message, MessageAck, MessagePage,
    MessageRef, Notification, Thread, Unread,
};
use hub_protocol::realtime::{client, server};
use hub_protocol::{ErrorCode, UserId};
use hub_rooms::chat::{check_body, check_client_id, check_emoji, history_limit, mentions};
use socketioxide::extract::{AckSender, Extension, SocketRef, State};

fn rule(e: hub_rooms::chat::ChatError) -> EventError {
    match e {
        hub_rooms::chat::ChatError::BodyTooLong(_) => {
            EventError::new(ErrorCode::TooLarge, e.to_string())
        }
        other => EventError::invalid(other.to_string()),
    }
}

async fn updated(core: &Core, message: &Message) {
    core.services
        .notify
        .to_room(
            &message.room,
            server::CHAT_UPDATED,
            message,
            Except::default(),
        )
        .await;
}

pub async fn send(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatSend>,
) {
    respond(client::CHAT_SEND, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(
            client::CHAT_SEND,
            "{room, client_id, body, reply_to?}",
        ))?;
        let (name, role) = joined_room(&s, &core, &who, &req.room).await?;
        if !role.can_edit() {
            return Err(EventError::new(
                ErrorCode::Forbidden,
                "viewers cannot send messages",
            ));
        }
        check_client_id(&req.client_id).map_err(rule)?;
        let body = check_body(&req.body, core.services.chat.max_body_chars).map_err(rule)?;
        // A retry of a message already committed answers with the original and costs nothing
        // from the sender's allowance.
        if let Some(message) = core
            .store
            .by_client_id(&who.user_id, &req.client_id)
            .await?
        {
            return Ok(MessageAck { message });
        }
        if !core.services.allow_send(&who.user_id) {
            return Err(EventError::new(
                ErrorCode::RateLimited,
                format!(
                    "too many messages: at most {} a second (bursts of {}); slow down",
                    core.services.chat.rate_per_second, core.services.chat.burst
                ),
            ));
        }
        let room = name.to_string();
        let members = if body.contains('@') {
            core.store.room_members(&name).await?
        } else {
            Vec::new()
        };
        let mentioned: Vec<UserId> = mentions(body, &members, &who.user_id)
            .into_iter()
            .cloned()
            .collect();

        let order = core.services.room_lock(&room);
        let _ordered = order.lock().await;
        let (message, created) = core
            .store
            .chat_send(NewMessage {
                room: &room,
                author: &who.user_id,
                client_id: &req.client_id,
                body,
                reply_to: req.reply_to.as_deref(),
                mentions: &mentioned,
            })
            .await?;
        if created {
            let except = Except {
                user: None,
                sid: Some(s.id.to_string()),
            };
            core.services
                .notify
                .to_room(&room, server::CHAT_MESSAGE, &message, except)
                .await;
            drop(_ordered);
            core.services
                .presence
                .typing_stop(&room, &who.user_id)
                .await;
            for user in &mentioned {
                let note = Notification {
                    kind: "mention".into(),
                    room: room.clone(),
                    message_id: message.id.clone(),
                    seq: message.seq,
                    author_id: who.user_id.clone(),
                    author_name: who.name.clone(),
                    excerpt: message.body.chars().take(140).collect(),
                    created_at: message.created_at.clone(),
                };
                core.services
                    .notify
                    .to_user(user, server::NOTIFICATION, &note)
                    .await;
            }
        }
        Ok(MessageAck { message })
    })
    .await;
}

async fn existing(core: &Core, room: &str, id: &str) -> Result<Message, EventError> {
    core.store
        .chat_get(room, id)
        .await?
        .ok_or_else(|| EventError::new(ErrorCode::NotFound, "no such message in this room"))
}

pub async fn edit(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    State(core): State<Core>,
    Payload(req): Payload<ChatEdit>,
) {
    respond(client::CHAT_EDIT, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_EDIT, "{room, id, body}"))?;
        let (name, role) = joined_room(&s, &core, &who, &req.room).await?;
        let room = name.to_string();
        let current = existing(&core, &room, &req.id).await?;
        if current.author_id != who.user_id || !role.can_edit() {
            return Err(EventError::new(
                ErrorCode::Forbidden,
                "only the author edits a message",
            ));
        }
        let body = check_body(&req.body, core.services.chat.max_body_chars).map_err(rule)?;
        let message = core.store.chat_edit(&room, &req.id, body).await?;
        updated(&core, &message).await;
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
    respond(client::CHAT_DELETE, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_DELETE, "{room, id}"))?;
        let (name, role) = joined_room(&s, &core, &who, &req.room).await?;
        let room = name.to_string();
        let current = existing(&core, &room, &req.id).await?;
        let is_author = current.author_id == who.user_id && role.can_edit();
        if !is_author && !role.can_manage() {
            return Err(EventError::new(
                ErrorCode::Forbidden,
                "only the author or a room owner or admin deletes a message",
            ));
        }
        if current.deleted {
            return Ok(MessageAck { message: current });
        }
        let message = core.store.chat_delete(&room, &req.id).await?;
        updated(&core, &message).await;
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
    respond(client::CHAT_REACT, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_REACT, "{room, id, emoji, add}"))?;
        let (name, role) = joined_room(&s, &core, &who, &req.room).await?;
        if !role.can_edit() {
            return Err(EventError::new(
                ErrorCode::Forbidden,
                "viewers cannot react",
            ));
        }
        check_emoji(&req.emoji).map_err(rule)?;
        let room = name.to_string();
        existing(&core, &room, &req.id).await?;
        let message = core
            .store
            .chat_react(&room, &req.id, &who.user_id, &req.emoji, req.add)
            .await?;
        updated(&core, &message).await;
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
    respond(client::CHAT_HISTORY, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(
            client::CHAT_HISTORY,
            "{room, before?, after?, limit?}",
        ))?;
        let (name, _) = joined_room(&s, &core, &who, &req.room).await?;
        if req.before.is_some() && req.after.is_some() {
            return Err(rule(hub_rooms::chat::ChatError::BothBounds));
        }
        let limit = history_limit(req.limit).map_err(rule)?;
        let (messages, has_more) = core
            .store
            .chat_history(&name.to_string(), req.before, req.after, limit)
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
    respond(client::CHAT_THREAD, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_THREAD, "{room, id}"))?;
        let (name, _) = joined_room(&s, &core, &who, &req.room).await?;
        let room = name.to_string();
        let root = existing(&core, &room, &req.id).await?;
        let messages = core.store.chat_thread(&room, &req.id).await?;
        Ok(Thread { root, messages })
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
    respond(client::CHAT_READ, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::CHAT_READ, "{room, seq}"))?;
        let (name, _) = joined_room(&s, &core, &who, &req.room).await?;
        let unread = core
            .store
            .chat_read(&name.to_string(), &who.user_id, req.seq)
            .await?;
        Ok(Unread { unread })
    })
    .await;
}
