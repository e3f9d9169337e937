//! Diagnostic events: `sys:ping` (server time and node, for round-trip measurements) and
//! `sys:echo` (returns a binary payload, to check binary attachments end to end), and the
//! answer to unknown events.

use super::ack::{EventError, malformed, respond};
use super::payload::Payload;
use crate::auth::Identity;
use crate::state::Core;
use bytes::Bytes;
use hub_protocol::ErrorCode;
use hub_protocol::realtime::{Pong, client};
use serde::{Deserialize, Serialize};
use socketioxide::extract::{AckSender, Event, Extension, State};

pub async fn ping(ack: AckSender, Extension(who): Extension<Identity>, State(core): State<Core>) {
    respond(client::SYS_PING, who.user_id.as_str(), ack, async {
        Ok(Pong {
            time: crate::clock::rfc3339(core.clock.now_ms()),
            node: core.info.node_id.clone(),
        })
    })
    .await;
}

#[derive(Debug, Deserialize)]
pub struct EchoIn {
    data: Bytes,
}

#[derive(Debug, Serialize)]
pub struct EchoOut {
    data: Bytes,
    size: usize,
}

pub async fn echo(
    ack: AckSender,
    Extension(who): Extension<Identity>,
    Payload(payload): Payload<EchoIn>,
) {
    respond(client::SYS_ECHO, who.user_id.as_str(), ack, async {
        let EchoIn { data } = payload.map_err(malformed(client::SYS_ECHO, "{data: <binary>}"))?;
        Ok(EchoOut {
            size: data.len(),
            data,
        })
    })
    .await;
}

pub async fn unknown_event(
    ack: AckSender,
    Event(event): Event,
    Extension(who): Extension<Identity>,
) {
    tracing::debug!(user = %who.user_id, event, "unknown event");
    respond::<(), _>("unknown", who.user_id.as_str(), ack, async move {
        Err(EventError::new(
            ErrorCode::NotFound,
            format!("unknown event {event:?}"),
        ))
    })
    .await;
}
