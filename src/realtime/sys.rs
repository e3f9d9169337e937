//! Diagnostic events: `sys:ping` (server time and node, for round-trip measurements) and
//! `sys:echo` (returns a binary payload, to check binary attachments end to end), and the
//! answer to unknown events.

use super::ack::{EventError, malformed, respond, respond_as};
use super::payload::Payload;
use crate::auth::Identity;
use crate::state::Core;
use hub_protocol::ErrorCode;
use hub_protocol::realtime::{Echo, Echoed, Pong, client};
use socketioxide::extract::{AckSender, Event, Extension, State};

pub async fn ping(ack: AckSender, Extension(who): Extension<Identity>, State(core): State<Core>) {
    respond(client::SysPingEvent, who.user_id.as_str(), ack, async {
        Ok(Pong {
            time: crate::clock::rfc3339(core.clock.now_ms()),
            node: core.info.node_id.clone(),
        })
    })
    .await;
}

pub async fn echo(
    ack: AckSender,
    Extension(who): Extension<Identity>,
    Payload(payload): Payload<Echo>,
) {
    respond(client::SysEchoEvent, who.user_id.as_str(), ack, async {
        let Echo { data } = payload.map_err(malformed(client::SYS_ECHO, "{data: <binary>}"))?;
        Ok(Echoed {
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
    respond_as::<(), _>("unknown", who.user_id.as_str(), ack, async move {
        Err(EventError::new(
            ErrorCode::NotFound,
            format!("unknown event {event:?}"),
        ))
    })
    .await;
}
