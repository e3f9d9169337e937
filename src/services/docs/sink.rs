//! Where a document connection's frames go. The engine sees a [`DocSink`]; each transport
//! implements it (`/yjs` with a queue bounded in bytes, in `yws`; Socket.IO with `doc:msg`
//! emits, in `realtime::docs`), so the engine knows no transport.

use bytes::Bytes;
use hub_protocol::{DocId, ErrorCode};

/// The connection side of a document connection.
pub trait DocSink: Send + Sync {
    /// Queues a frame; false when the connection cannot take it (full or gone): the engine then
    /// closes it, and its client resyncs when it reconnects.
    fn send(&self, doc: &DocId, frame: Bytes) -> bool;

    /// Ends the connection's use of the document, for `reason` (each transport says it its
    /// own way: `/yjs` as a close code, Socket.IO as `doc:removed`).
    fn close(&self, doc: &DocId, reason: CloseReason);

    /// Whether the document connection is a connection of its own (a `/yjs` WebSocket), not a
    /// use of the document on a shared socket: a draining node closes those itself.
    fn own_connection(&self) -> bool {
        false
    }
}

/// Why the engine ends a connection's use of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The document was deleted.
    Deleted,
    /// The connection could not keep up with its queue; its client reconnects and resyncs.
    TooSlow,
    /// The user is no longer a member of the document's room.
    AccessLost,
    /// The server API closed the user's connections (a disconnect or a token revocation).
    SessionClosed,
    /// The node is draining (it restarts or goes away): the client connects again, to
    /// another node.
    Restart,
    /// A text frame, where y-protocols sends binary frames only.
    TextFrame,
    /// A frame was refused with this code (malformed, too large, not allowed, storage down).
    Refused(ErrorCode),
}

impl CloseReason {
    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            CloseReason::Deleted => "document deleted",
            CloseReason::TooSlow => "too slow: reconnect to resync",
            CloseReason::AccessLost => "no longer a member of the room",
            CloseReason::SessionClosed => "session closed by the server",
            CloseReason::Restart => "server restarting: reconnect",
            CloseReason::TextFrame => "binary y-protocols frames only",
            CloseReason::Refused(code) => match code {
                ErrorCode::Invalid => "malformed y-protocols message",
                ErrorCode::TooLarge => "message too large",
                ErrorCode::NotFound | ErrorCode::RateLimited | ErrorCode::Busy => {
                    "reconnect to resync"
                }
                ErrorCode::Forbidden | ErrorCode::Unauthorized => "not allowed",
                ErrorCode::Conflict | ErrorCode::Unavailable | ErrorCode::Internal => {
                    "storage unavailable: reconnect later"
                }
            },
        }
    }
}

/// A connection's sink, as the engine holds it.
pub type Sink = Box<dyn DocSink>;
