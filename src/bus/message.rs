//! The one message type that crosses nodes, and its one codec: a Redis bus is a transport of
//! [`BusMessage`] and nothing else.
//!
//! Wire: one tag byte, then the body: `F` + JSON of a [`Notice`], `P` + JSON of a
//! [`PresenceDelta`], `N` + JSON of a [`NodeEvent`], `Y` + a [`DocFrame`] in binary (a kind byte, three u16-length-prefixed
//! strings, then the y-protocols frame as is: document traffic is not inflated).

use bytes::{BufMut, Bytes, BytesMut};
use hub_protocol::rooms::PresenceStatus;
use hub_protocol::server::SessionCloseCode;
use hub_protocol::{DocId, NodeId, Role, RoomId, SocketId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Everything that crosses nodes.
#[derive(Debug)]
pub enum BusMessage {
    Notify(Notice),
    Presence(PresenceDelta),
    Node(NodeEvent),
    Doc(DocFrame),
}

/// Node liveness (see [`super::liveness`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A node started, or asks for everyone's state again: the others answer with theirs.
    Hello {
        node: NodeId,
    },
    Heartbeat {
        node: NodeId,
    },
    /// A node stops: the others drop its connections.
    Bye {
        node: NodeId,
    },
    /// `of` is asked to tell its state again: `node` had taken it for dead (and dropped its
    /// connections) and hears from it again.
    Resync {
        node: NodeId,
        of: NodeId,
    },
}

impl NodeEvent {
    pub fn node(&self) -> &NodeId {
        match self {
            NodeEvent::Hello { node }
            | NodeEvent::Heartbeat { node }
            | NodeEvent::Bye { node }
            | NodeEvent::Resync { node, .. } => node,
        }
    }
}

/// What `services::notify` publishes for every node to apply to its own connections.
/// Externally tagged: serde buffers internally tagged enums, which a raw JSON value cannot
/// pass through.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// `event` with `data` (raw JSON, encoded once) to every socket in `room`.
    Deliver {
        room: RoomId,
        event: String,
        data: Box<RawValue>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except_user: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except_sid: Option<SocketId>,
    },
    /// `user` lost `rooms`: their sockets leave them, their documents there close.
    Leave {
        user: UserId,
        rooms: Vec<RoomId>,
        reason: String,
    },
    /// `user`'s role in `rooms` is now `role`.
    Access {
        user: UserId,
        rooms: Vec<RoomId>,
        role: Role,
    },
    /// The webhook endpoints changed: every node reads them again.
    Webhooks,
    /// Every connection of `user` closes (`session:closed`, then the server disconnect); with
    /// `revoked_before` (Unix ms), their tokens issued before it are refused from then on.
    Close {
        user: UserId,
        code: SessionCloseCode,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revoked_before: Option<i64>,
    },
}

/// A document update or awareness frame, for the nodes that hold the document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocFrame {
    pub kind: DocFrameKind,
    pub node: NodeId,
    pub doc: DocId,
    pub room: RoomId,
    pub frame: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFrameKind {
    /// A v1 update, as the sending node applied it.
    Update,
    /// A y-protocols awareness message.
    Awareness,
}

/// A change of presence or typing in a room, on the room's topic (a status, on the user's
/// topic and the topics of their rooms).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PresenceDelta {
    Add {
        node: NodeId,
        room: RoomId,
        sid: SocketId,
        user: UserId,
        name: String,
        since: String,
    },
    Remove {
        node: NodeId,
        room: RoomId,
        sid: SocketId,
    },
    Kick {
        node: NodeId,
        room: RoomId,
        user: UserId,
    },
    /// `user`'s status. `room: None`: sent on the user's own topic, to the nodes that hold
    /// their connections, which pass it on to the topics of the rooms where they hold them.
    Status {
        node: NodeId,
        user: UserId,
        status: PresenceStatus,
        meta: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomId>,
    },
    TypingStart {
        node: NodeId,
        room: RoomId,
        user: UserId,
    },
    TypingStop {
        node: NodeId,
        room: RoomId,
        user: UserId,
    },
    /// `node`'s own connections and typists in `room`, all of them: every node that follows
    /// the room replaces what it held of `node` there with this. With `ask`, every node that
    /// follows the room answers with its own (a node that starts following a room, or may
    /// have missed traffic, asks).
    Snapshot {
        node: NodeId,
        room: RoomId,
        conns: Vec<PresenceConn>,
        typing: Vec<UserId>,
        ask: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceConn {
    pub sid: SocketId,
    pub user: UserId,
    pub name: String,
    pub since: String,
    pub status: Option<(PresenceStatus, Value)>,
}

impl PresenceDelta {
    /// The node that published it.
    pub fn node(&self) -> &NodeId {
        match self {
            PresenceDelta::Add { node, .. }
            | PresenceDelta::Remove { node, .. }
            | PresenceDelta::Kick { node, .. }
            | PresenceDelta::Status { node, .. }
            | PresenceDelta::TypingStart { node, .. }
            | PresenceDelta::TypingStop { node, .. }
            | PresenceDelta::Snapshot { node, .. } => node,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("undecodable bus message: {0}")]
pub struct DecodeError(String);

const TAG_NOTICE: u8 = b'F';
const TAG_PRESENCE: u8 = b'P';
const TAG_NODE: u8 = b'N';
const TAG_DOC: u8 = b'Y';

impl BusMessage {
    /// The kind, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            BusMessage::Notify(_) => "notify",
            BusMessage::Presence(_) => "presence",
            BusMessage::Node(_) => "node",
            BusMessage::Doc(_) => "doc",
        }
    }

    pub fn encode(&self) -> Result<Bytes, serde_json::Error> {
        match self {
            BusMessage::Notify(n) => tagged_json(TAG_NOTICE, n),
            BusMessage::Presence(d) => tagged_json(TAG_PRESENCE, d),
            BusMessage::Node(e) => tagged_json(TAG_NODE, e),
            BusMessage::Doc(f) => {
                let mut out = BytesMut::with_capacity(
                    8 + f.node.as_str().len()
                        + f.doc.as_str().len()
                        + f.room.as_str().len()
                        + f.frame.len(),
                );
                out.put_u8(TAG_DOC);
                out.put_u8(match f.kind {
                    DocFrameKind::Update => b'U',
                    DocFrameKind::Awareness => b'A',
                });
                for part in [f.node.as_str(), f.doc.as_str(), f.room.as_str()] {
                    let len = part.len().min(u16::MAX as usize);
                    out.put_u16(len as u16);
                    out.put_slice(&part.as_bytes()[..len]);
                }
                out.put_slice(&f.frame);
                Ok(out.freeze())
            }
        }
    }

    pub fn decode(payload: &Bytes) -> Result<BusMessage, DecodeError> {
        let bad = |e: &dyn std::fmt::Display| DecodeError(e.to_string());
        let Some((&tag, body)) = payload.split_first() else {
            return Err(DecodeError("empty".into()));
        };
        match tag {
            TAG_NOTICE => serde_json::from_slice(body)
                .map(BusMessage::Notify)
                .map_err(|e| bad(&e)),
            TAG_PRESENCE => serde_json::from_slice(body)
                .map(BusMessage::Presence)
                .map_err(|e| bad(&e)),
            TAG_NODE => serde_json::from_slice(body)
                .map(BusMessage::Node)
                .map_err(|e| bad(&e)),
            TAG_DOC => decode_doc(payload).map(BusMessage::Doc),
            other => Err(DecodeError(format!("unknown tag {other}"))),
        }
    }
}

fn tagged_json<T: Serialize>(tag: u8, body: &T) -> Result<Bytes, serde_json::Error> {
    let mut out = vec![tag];
    serde_json::to_writer(&mut out, body)?;
    Ok(Bytes::from(out))
}

fn decode_doc(payload: &Bytes) -> Result<DocFrame, DecodeError> {
    let short = || DecodeError("truncated document frame".into());
    let kind = match payload.get(1) {
        Some(b'U') => DocFrameKind::Update,
        Some(b'A') => DocFrameKind::Awareness,
        _ => return Err(DecodeError("unknown document frame kind".into())),
    };
    let mut at = 2;
    let mut parts = Vec::with_capacity(3);
    for _ in 0..3 {
        let len_bytes = payload.get(at..at + 2).ok_or_else(short)?;
        let len = u16::from_be_bytes([len_bytes[0], len_bytes[1]]) as usize;
        at += 2;
        let text = payload.get(at..at + len).ok_or_else(short)?;
        parts.push(
            std::str::from_utf8(text)
                .map_err(|e| DecodeError(e.to_string()))?
                .to_owned(),
        );
        at += len;
    }
    let room = parts.pop().unwrap_or_default();
    let doc = parts.pop().unwrap_or_default();
    let node = parts.pop().unwrap_or_default();
    Ok(DocFrame {
        kind,
        node: node.into(),
        doc: doc.into(),
        room: room.into(),
        frame: payload.slice(at..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: BusMessage) -> BusMessage {
        BusMessage::decode(&m.encode().unwrap()).unwrap()
    }

    #[test]
    fn every_message_survives_its_codec() {
        let frame = DocFrame {
            kind: DocFrameKind::Awareness,
            node: "node-1".into(),
            doc: "d".repeat(300).into(),
            room: "venture:x".into(),
            frame: Bytes::from_static(&[1, 2, 0, 255]),
        };
        match round_trip(BusMessage::Doc(frame.clone())) {
            BusMessage::Doc(back) => assert_eq!(back, frame),
            other => panic!("{other:?}"),
        }
        let notice = Notice::Deliver {
            room: "venture:x".into(),
            event: "chat:message".into(),
            data: serde_json::value::to_raw_value(&serde_json::json!({"seq": 1})).unwrap(),
            except_user: None,
            except_sid: Some("sid".into()),
        };
        match round_trip(BusMessage::Notify(notice)) {
            BusMessage::Notify(Notice::Deliver {
                data, except_sid, ..
            }) => {
                assert_eq!(data.get(), r#"{"seq":1}"#);
                assert_eq!(except_sid, Some("sid".into()));
            }
            other => panic!("{other:?}"),
        }
        match round_trip(BusMessage::Presence(PresenceDelta::TypingStop {
            node: "n".into(),
            room: "venture:x".into(),
            user: "u".into(),
        })) {
            BusMessage::Presence(d) => assert_eq!(d.node().as_str(), "n"),
            other => panic!("{other:?}"),
        }
        match round_trip(BusMessage::Node(NodeEvent::Bye { node: "n".into() })) {
            BusMessage::Node(e) => assert_eq!(e, NodeEvent::Bye { node: "n".into() }),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"Z",
            b"F{",
            b"P[]",
            b"N{}",
            b"Y",
            b"YU\x00\x05ab",
            b"YQ",
        ] {
            assert!(
                BusMessage::decode(&Bytes::copy_from_slice(bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
