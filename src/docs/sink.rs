//! Where a document connection's frames go: a `/yjs` WebSocket's queue, bounded in bytes, or a
//! Socket.IO socket (`doc:msg` with the document id and the frame as a binary attachment).

use crate::realtime::emit;
use bytes::Bytes;
use hub_protocol::docs::DocRemoved;
use socketioxide::extract::SocketRef;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// RFC 6455 allows 123 bytes of close reason; a longer one makes clients see 1006.
pub const MAX_CLOSE_REASON: usize = 123;

/// `reason` cut to what a close frame can carry, on a character boundary.
pub fn close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// The sending side of a `/yjs` connection's queue. It holds at most `limit` bytes of frames
/// (one frame of any size when it is empty, so a large sync step 2 still goes out).
#[derive(Clone)]
pub struct WsQueue {
    tx: mpsc::UnboundedSender<WsOut>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// The writer's side: frames to write, and the counter to give their bytes back to.
pub struct WsQueueRx {
    pub rx: mpsc::UnboundedReceiver<WsOut>,
    queued: Arc<AtomicUsize>,
}

impl WsQueue {
    pub fn new(limit: usize) -> (WsQueue, WsQueueRx) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        (
            WsQueue {
                tx,
                queued: queued.clone(),
                limit,
            },
            WsQueueRx { rx, queued },
        )
    }

    fn push(&self, frame: Bytes) -> bool {
        let len = frame.len();
        let fits = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q == 0 || q + len <= self.limit).then_some(q + len)
            })
            .is_ok();
        if !fits {
            return false;
        }
        if self.tx.send(WsOut::Frame(frame)).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }
}

impl WsQueueRx {
    /// The writer wrote (or dropped) a frame of `len` bytes.
    pub fn written(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::AcqRel);
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

/// What the writer of a `/yjs` socket is told.
#[derive(Debug)]
pub enum WsOut {
    Frame(Bytes),
    Close(u16, String),
}

pub enum Sink {
    Ws(WsQueue),
    Sio(SocketRef),
}

impl Sink {
    /// Queues a frame; false when the connection cannot take it (full or gone).
    pub fn send(&self, doc: &str, frame: Bytes) -> bool {
        match self {
            Sink::Ws(queue) => queue.push(frame),
            Sink::Sio(s) => {
                emit::to_socket(s, hub_protocol::realtime::server::DOC_MSG, &(doc, frame))
            }
        }
    }

    /// Ends the connection's use of the document, with a reason.
    pub fn close(&self, doc: &str, code: u16, reason: &str) {
        match self {
            Sink::Ws(queue) => {
                let _ = queue
                    .tx
                    .send(WsOut::Close(code, close_reason(reason).to_owned()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        assert_eq!(close_reason("short"), "short");
        let long = "é".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= MAX_CLOSE_REASON && cut.len() >= MAX_CLOSE_REASON - 1);
        assert!(long.starts_with(cut));
    }

    #[test]
    fn the_queue_is_bounded_in_bytes() {
        let (q, rx) = WsQueue::new(100);
        // One frame of any size when empty.
        assert!(q.push(Bytes::from(vec![0; 500])));
        assert!(!q.push(Bytes::from(vec![0; 1])));
        rx.written(500);
        assert!(q.push(Bytes::from(vec![0; 60])));
        assert!(q.push(Bytes::from(vec![0; 40])));
        assert!(!q.push(Bytes::from(vec![0; 1])), "100 bytes queued");
        assert_eq!(rx.queued(), 100);
        // Once the writer is gone, nothing is accepted and nothing more is counted.
        drop(rx);
        rx_written_all(&q, 100);
        assert!(!q.push(Bytes::from_static(b"x")));
        assert_eq!(q.queued.load(Ordering::Acquire), 0);
    }

    /// Gives back `n` queued bytes, as a writer that finished would.
    fn rx_written_all(q: &WsQueue, n: usize) {
        q.queued.fetch_sub(n, Ordering::AcqRel);
    }
}
