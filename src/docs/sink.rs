//! Where a document connection's frames go: a `/yjs` WebSocket's bounded queue, or a
//! Socket.IO socket (`doc:msg` with the document id and the frame as a binary attachment).

use crate::realtime::emit;
use bytes::Bytes;
use hub_protocol::docs::DocRemoved;
use socketioxide::extract::SocketRef;
use tokio::sync::mpsc;

/// What the writer of a `/yjs` socket is told.
#[derive(Debug)]
pub enum WsOut {
    Frame(Bytes),
    Close(u16, String),
}

pub enum Sink {
    Ws(mpsc::Sender<WsOut>),
    Sio(SocketRef),
}

impl Sink {
    /// Queues a frame; false when the connection cannot take it (full or gone).
    pub fn send(&self, doc: &str, frame: Bytes) -> bool {
        match self {
            Sink::Ws(tx) => tx.try_send(WsOut::Frame(frame)).is_ok(),
            Sink::Sio(s) => {
                emit::to_socket(s, hub_protocol::realtime::server::DOC_MSG, &(doc, frame))
            }
        }
    }

    /// Ends the connection's use of the document, with a reason.
    pub fn close(&self, doc: &str, code: u16, reason: &str) {
        match self {
            Sink::Ws(tx) => {
                let _ = tx.try_send(WsOut::Close(code, reason.to_owned()));
            }
            Sink::Sio(s) => {
                emit::to_socket(
                    s,
                    hub_protocol::realtime::server::DOC_REMOVED,
                    &DocRemoved {
                        doc: doc.to_owned(),
                        reason: reason.to_owned(),
                    },
                );
            }
        }
    }
}
