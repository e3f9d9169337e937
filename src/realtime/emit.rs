//! Every emit of the hub goes through here, so that no packet is dropped silently: a full
//! socket buffer counts a drop and disconnects the socket as a slow consumer (it resyncs on
//! reconnect, see ARCHITECTURE "Lossless over a lossy transport").

use serde::Serialize;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError};

/// Counts a failed send by its reason.
pub fn count_send_error(e: &SendError) {
    let reason = match e {
        SendError::Socket(SocketError::InternalChannelFull) => "buffer_full",
        SendError::Socket(SocketError::Closed) => "closed",
        SendError::Serialize(_) => "serialize",
    };
    metrics::counter!("hub_socket_emit_dropped_total", "reason" => reason).increment(1);
}

/// Emits `event` to one socket. A full buffer disconnects the socket.
pub fn to_socket<T: Serialize + ?Sized>(s: &SocketRef, event: &str, data: &T) -> bool {
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

/// Disconnects a socket whose outgoing buffer is full.
pub fn disconnect_slow_consumer(s: &SocketRef) {
    metrics::counter!("hub_socket_slow_consumers_total").increment(1);
    tracing::warn!(sid = %s.id, "disconnecting slow consumer: outgoing buffer full");
    if let Err(e) = s.clone().disconnect() {
        tracing::debug!(sid = %s.id, error = %e, "slow consumer already gone");
    }
}
