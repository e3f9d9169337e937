//! The Socket.IO packets the load tester sends and reads, built from and parsed into the hub's
//! wire types (`hub-protocol`): event names are the protocol's constants and payloads its
//! structs, so the load tester speaks exactly what the hub and its SDK speak.
//!
//! Parsing stays cheap on the hot path: a packet is matched by its prefix without allocating,
//! and only packets of the wanted event are deserialized.

use hub_protocol::realtime::{AckErr, ClientEvent, HandshakeAuth};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

/// A Socket.IO EVENT packet of the client event `E`: `42[<ack id>]["event",request]`, the
/// request being the one the event contract gives `E`.
pub fn emit<E>(ack: Option<u64>, _event: E, request: &E::Request) -> String
where
    E: ClientEvent,
    E::Request: Serialize,
{
    let body = serde_json::to_string(&(E::NAME, request)).unwrap_or_else(|_| "[]".into());
    match ack {
        Some(id) => format!("42{id}{body}"),
        None => format!("42{body}"),
    }
}

/// The Socket.IO CONNECT packet to `/` carrying `token` (`40{"token":…}`).
pub fn connect(token: &str) -> String {
    let auth = HandshakeAuth {
        token: Some(token.to_owned()),
    };
    format!(
        "40{}",
        serde_json::to_string(&auth).unwrap_or_else(|_| "{}".into())
    )
}

/// The `["name",data]` part of `packet` when it is the server event `name` (no parsing).
fn event_body<'a>(packet: &'a str, name: &str) -> Option<&'a str> {
    let rest = packet.strip_prefix("42[\"")?.strip_prefix(name)?;
    rest.starts_with("\",").then(|| &packet[2..])
}

/// The payload of server event `name`, when `packet` is that event and it parses as `T`.
pub fn event<T: DeserializeOwned>(packet: &str, name: &str) -> Option<T> {
    let body = event_body(packet, name)?;
    serde_json::from_str::<(IgnoredAny, T)>(body)
        .ok()
        .map(|(_, data)| data)
}

/// An ack's answer: the payload beside `ok: true`, or the error.
#[derive(Debug)]
pub enum Answer<T> {
    Ok(T),
    Err(AckErr),
    /// Neither shape: the peer does not speak the hub's protocol.
    Unreadable,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AckBody<T> {
    Err(AckErr),
    Ok(T),
}

/// The ack id of `packet` when it is an ACK (`43<id>[…]`), without parsing its payload.
pub fn ack_id(packet: &str) -> Option<u64> {
    ack_parts(packet).map(|(id, _)| id)
}

/// An ACK's id and the rest of the packet (its payload).
fn ack_parts(packet: &str) -> Option<(u64, &str)> {
    let rest = packet.strip_prefix("43")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    Some((rest[..digits].parse().ok()?, &rest[digits..]))
}

/// An ACK packet's id and answer, `T` being the payload of a successful answer.
pub fn ack<T: DeserializeOwned>(packet: &str) -> Option<(u64, Answer<T>)> {
    let (id, body) = ack_parts(packet)?;
    let answer = match serde_json::from_str::<(AckBody<T>,)>(body) {
        Ok((AckBody::Err(e),)) if !e.ok => Answer::Err(e),
        Ok((AckBody::Ok(data),)) => Answer::Ok(data),
        _ => Answer::Unreadable,
    };
    Some((id, answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_protocol::chat::{ChatSend, Message, MessageAck};
    use hub_protocol::realtime::{client, server};
    use hub_protocol::rooms::RoomJoined;

    #[test]
    fn builds_packets_from_protocol_types() {
        let send = ChatSend {
            room: "venture:v".into(),
            client_id: "c1".into(),
            body: "hi".into(),
            reply_to: None,
        };
        assert_eq!(
            emit(Some(7), client::ChatSendEvent, &send),
            r#"427["chat:send",{"room":"venture:v","client_id":"c1","body":"hi","reply_to":null}]"#
        );
        assert_eq!(connect("t.k"), r#"40{"token":"t.k"}"#);
    }

    #[test]
    fn reads_events_and_answers_into_protocol_types() {
        let p = r#"42["chat:message",{"id":"m","room":"venture:v","seq":42,"author_id":"a","client_id":"c","body":"t17","reply_to":null,"created_at":"2030-01-01T00:00:00.000Z","edited_at":null,"deleted":false,"reactions":{}}]"#;
        assert!(event_body(p, server::CHAT_MESSAGE).is_some());
        assert!(
            event_body(p, "chat").is_none(),
            "a prefix of the name is another event"
        );
        let m: Message = event(p, server::CHAT_MESSAGE).unwrap();
        assert_eq!((m.seq, m.body.as_str()), (42, "t17"));
        assert!(event::<Message>(p, server::CHAT_UPDATED).is_none());

        let err = r#"437[{"ok":false,"error":{"code":"rate_limited","message":"slow down"}}]"#;
        match ack::<MessageAck>(err) {
            Some((7, Answer::Err(e))) => assert_eq!(e.error.message, "slow down"),
            other => panic!("{other:?}"),
        }
        let ok = r#"4312[{"ok":true,"room":"venture:v","role":"member","presence":[],"typing":[],"last_seq":3,"unread":0}]"#;
        assert_eq!(ack_id(ok), Some(12));
        match ack::<RoomJoined>(ok) {
            Some((12, Answer::Ok(j))) => assert_eq!(j.last_seq, 3),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ack::<RoomJoined>(r#"430[{"nonsense":1}]"#),
            Some((0, Answer::Unreadable))
        ));
        assert!(ack::<RoomJoined>(p).is_none(), "not an ack");
    }
}
