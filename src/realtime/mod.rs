//! Socket.IO on the main namespace `/`: the handshake middleware authenticates and stores the
//! [`Identity`] in the socket's extensions; every connection joins its personal room
//! `user:{id}`. One file per event family.
//!
//! Invariants:
//! - a socket without a valid token never reaches a handler (`connect_error` instead);
//! - every client event answers its ack with `{ok: true, ...}` or `{ok: false, error}`
//!   (see [`ack`]); unknown events are answered with `not_found`;
//! - every emit goes through [`emit`], which counts drops and disconnects slow consumers.

pub mod ack;
mod chat;
mod deliver;
mod docs;
mod drain;
pub mod emit;
mod events;
mod payload;
mod rooms;
mod sys;

pub use deliver::SioSockets;
pub use drain::hand_back;

use crate::auth::{AuthError, AuthenticateError, Identity, find_token};
use crate::config::SocketConfig;
use crate::state::Core;
use hub_protocol::realtime::HandshakeAuth;
use hub_rooms::RoomName;
use socketioxide::SocketIo;
use socketioxide::extract::{Extension, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::DisconnectReason;

/// Builds the Socket.IO layer and its handle, with buffers sized as configured.
pub fn build(core: Core, config: &SocketConfig) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .max_buffer_size(config.max_buffer_size)
        .max_payload(config.max_payload)
        .ping_interval(config.ping_interval)
        .ping_timeout(config.ping_timeout)
        .ws_read_buffer_size(config.ws_read_buffer_size)
        .connect_timeout(config.connect_timeout)
        .with_state(core)
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    (layer, io)
}

/// Why a handshake was refused; its text is the `connect_error` message the client sees.
#[derive(Debug)]
pub struct ConnectRefused(String);

impl std::fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectRefused {}

async fn authenticate(
    s: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(core): State<Core>,
) -> Result<(), ConnectRefused> {
    let refuse = |e: AuthError| {
        metrics::counter!("hub_auth_failures_total", "transport" => "socketio").increment(1);
        ConnectRefused(format!("unauthorized: {e}"))
    };
    let explicit = auth.ok().and_then(|a| a.token);
    let parts = s.req_parts();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<crate::net::PeerAddr>>()
        .map(|c| c.0.0.ip());
    let ip = core.conns.client_ip(&parts.headers, peer);
    let limited = |r: hub_rooms::conns::Refusal| ConnectRefused(r.to_string());
    core.conns
        .handshake(ip, core.clock.now())
        .map_err(limited)?;
    let token =
        find_token(explicit.as_deref(), &parts.headers, parts.uri.query()).map_err(refuse)?;
    match core.auth.authenticate(&token).await {
        Ok(identity) => {
            let ticket = core
                .conns
                .admit(identity.user_id.as_str(), ip)
                .map_err(limited)?;
            s.extensions.insert(std::sync::Arc::new(ticket));
            // Everything the socket needs is set up here, not in the connect handler:
            // socketioxide answers the CONNECT once the middleware returns but runs the connect
            // handler later, so a client that emits on `connect` could otherwise reach a
            // socket without handlers and lose its first event.
            // This node hears what is sent to the user while it holds one of their sockets.
            let route = core.services.routes.hold_user(&identity.user_id).await;
            s.extensions.insert(std::sync::Arc::new(route));
            s.join(RoomName::user(&identity.user_id).to_string());
            s.extensions.insert(identity);
            s.extensions.insert(docs::SocketDocs::default());
            register_handlers(&s);
            metrics::gauge!("hub_socket_connections").increment(1.0);
            metrics::counter!("hub_socket_connects_total").increment(1);
            Ok(())
        }
        Err(AuthenticateError::Auth(e)) => Err(refuse(e)),
        Err(AuthenticateError::Store(e)) => {
            tracing::error!(error = %e, "handshake: store unavailable");
            Err(ConnectRefused("unavailable: retry later".into()))
        }
    }
}

async fn on_connect(s: SocketRef, Extension(who): Extension<Identity>) {
    tracing::debug!(user = %who.user_id, sid = %s.id, transport = ?s.transport_type(), "socket connected");
}

/// The client events go through the shared table of [`events`] (one fallback handler, which
/// allocates nothing per socket); the disconnect handler is the socket's own.
fn register_handlers(s: &SocketRef) {
    s.on_fallback(events::Dispatch);
    s.on_disconnect(on_disconnect);
}

async fn on_disconnect(s: SocketRef, reason: DisconnectReason, State(core): State<Core>) {
    // The connection no longer counts against its user's and address's limits.
    s.extensions
        .remove::<std::sync::Arc<crate::limits::ConnTicket>>();
    s.extensions
        .remove::<std::sync::Arc<crate::services::routes::UserRoute>>();
    if let Some(mine) = s.extensions.get::<docs::SocketDocs>() {
        docs::leave_all(&core, &mine);
    }
    if let Some(who) = s.extensions.get::<Identity>() {
        core.services
            .presence
            .disconnect(&rooms::sid(&s), &who.user_id)
            .await;
    }
    metrics::gauge!("hub_socket_connections").decrement(1.0);
    metrics::counter!("hub_socket_disconnects_total", "reason" => reason_label(reason))
        .increment(1);
    tracing::debug!(sid = %s.id, %reason, "socket disconnected");
}

fn reason_label(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport_close",
        DisconnectReason::MultipleHttpPollingError => "multiple_polling",
        DisconnectReason::PacketParsingError => "packet_parsing",
        DisconnectReason::TransportError => "transport_error",
        DisconnectReason::HeartbeatTimeout => "heartbeat_timeout",
        DisconnectReason::ClientNSDisconnect => "client_disconnect",
        DisconnectReason::ServerNSDisconnect => "server_disconnect",
        DisconnectReason::ClosingServer => "closing_server",
    }
}
