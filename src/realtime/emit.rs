//! Every emit of the hub goes through here, so that no packet is dropped silently: a full
//! socket buffer counts a drop and disconnects the socket as a slow consumer (it resyncs on
//! reconnect, see ARCHITECTURE "Lossless over a lossy transport").

use hub_protocol::realtime::ServerEvent;
use serde::Serialize;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError};
use std::time::Duration;

/// Counts a failed send by its reason.
pub fn count_send_error(e: &SendError) {
    let reason = match e {
        SendError::Socket(SocketError::InternalChannelFull) => "buffer_full",
        SendError::Socket(SocketError::Closed) => "closed",
        SendError::Serialize(_) => "serialize",
    };
    metrics::counter!("hub_socket_emit_dropped_total", "reason" => reason).increment(1);
}

/// Emits the server event `E` to one socket, with the payload the event contract gives it. A
/// full buffer disconnects the socket.
pub fn to_socket<E: ServerEvent>(s: &SocketRef, _event: E, data: &E::Payload) -> bool {
    send(s, E::NAME, data)
}

/// Emits a delivery relayed from the bus (its event typed where it was sent, its data encoded
/// once there) to one socket.
pub fn relayed(s: &SocketRef, event: &str, data: &serde_json::value::RawValue) -> bool {
    send(s, event, data)
}

fn send<T: Serialize + ?Sized>(s: &SocketRef, event: &str, data: &T) -> bool {
    match s.emit(event, data) {
        Ok(()) => true,
        Err(e) => {
            count_send_error(&e);
            if matches!(e, SendError::Socket(SocketError::InternalChannelFull)) {
                disconnect_slow_consumer(s);
            } else if let SendError::Serialize(err) = &e {
                tracing::error!(event, error = %err, "cannot serialize event");
            }
            false
        }
    }
}

/// Marks a socket that is being disconnected as a slow consumer.
#[derive(Clone)]
struct Evicting;

/// How long to keep trying to tell a slow consumer it is disconnected.
const EVICT_FOR: Duration = Duration::from_secs(10);
const EVICT_RETRY: Duration = Duration::from_millis(50);

/// Disconnects a socket whose outgoing buffer is full. The disconnect packet itself needs a
/// free slot, so it is retried until the client has read enough to make room; a client that
/// reads nothing at all does not answer pings either, and the heartbeat closes it.
pub fn disconnect_slow_consumer(s: &SocketRef) {
    if s.extensions.insert(Evicting).is_some() {
        return;
    }
    metrics::counter!("hub_socket_slow_consumers_total").increment(1);
    tracing::warn!(sid = %s.id, "disconnecting slow consumer: outgoing buffer full");
    disconnect(s);
}

/// Disconnects a socket, retrying while its buffer has no room for the disconnect packet
/// (for as long as [`EVICT_FOR`]); a client that reads nothing at all does not answer pings
/// either, and the heartbeat closes it.
pub fn disconnect(s: &SocketRef) {
    let s = s.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + EVICT_FOR;
        while s.connected() && tokio::time::Instant::now() < deadline {
            match s.clone().disconnect() {
                Ok(()) => return,
                Err(SocketError::Closed) => return,
                Err(SocketError::InternalChannelFull) => tokio::time::sleep(EVICT_RETRY).await,
            }
        }
        if s.connected() {
            tracing::warn!(sid = %s.id, "a socket being disconnected reads nothing; the heartbeat will close it");
        }
    });
}
