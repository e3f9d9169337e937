//! Where a document connection's frames go. The engine sees a [`DocSink`]; each transport
//! implements it (`/yjs` with a queue bounded in bytes, in `yws`; Socket.IO with `doc:msg`
//! emits, in `realtime::docs`), so the engine knows no transport.

use bytes::Bytes;
use hub_protocol::DocId;

/// The connection side of a document connection.
pub trait DocSink: Send + Sync {
    /// Queues a frame; false when the connection cannot take it (full or gone): the engine then
    /// closes it, and its client resyncs when it reconnects.
    fn send(&self, doc: &DocId, frame: Bytes) -> bool;

    /// Ends the connection's use of the document, with a code (the `/yjs` close codes) and a
    /// reason.
    fn close(&self, doc: &DocId, code: u16, reason: &str);
}

/// A connection's sink, as the engine holds it.
pub type Sink = Box<dyn DocSink>;
