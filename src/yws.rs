//! `/yjs/{doc}`: a raw WebSocket speaking y-protocols, byte-compatible with the stock
//! `y-websocket` client (`new WebsocketProvider(url + "/yjs", docId, ydoc, {params: {token}})`).
//!
//! The token (`?token=` or `Authorization: Bearer`) and the access to the document are checked
//! before the upgrade: a refusal is an HTTP error with the JSON body, never a socket. After
//! the upgrade the server sends its sync step 1 and the awareness, answers step 1 with step 2,
//! relays updates to every other connection and awareness to every connection (the sender
//! included), one message per frame; the updates of frames read together from one connection
//! are logged and relayed merged, as one update. A malformed message closes the socket (1003)
//! without touching the document; a connection whose queue overflows (in bytes) is closed
//! (1013) and resyncs when its client reconnects. Close reasons are short (RFC 6455 allows 123 bytes); the
//! detail goes to the log.

use crate::auth::find_token;
use crate::error::AppError;
use crate::error::DomainError;
use crate::net::PeerAddr;
use crate::services::docs::{CloseReason, DocSink, LoadedDoc};
use crate::state::Core;
use crate::validate::{NUL_REFUSED, has_nul};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hub_protocol::{DocId, ErrorCode, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// Queued frames written before one flush.
const FLUSH_EVERY: usize = 64;

pub async fn upgrade(
    State(core): State<Core>,
    Path(doc_id): Path<DocId>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let ip = core.conns.client_ip(&headers, Some(peer.ip()));
    let limited =
        |r: hub_rooms::conns::Refusal| AppError::of(ErrorCode::RateLimited, r.to_string());
    core.conns
        .handshake(ip, core.clock.now())
        .map_err(limited)?;
    let token = find_token(None, &headers, uri.query())?;
    let who = core.auth.authenticate(&token).await?;
    let ticket = core
        .conns
        .admit(who.user_id.as_str(), ip)
        .map_err(limited)?;
    if has_nul(doc_id.as_str()) {
        return Err(AppError::invalid(NUL_REFUSED));
    }
    let (doc, role) = core
        .services
        .docs
        .open_visible(&who.user_id, &doc_id)
        .await?;
    let max = core.services.docs.config.limits.max_update_bytes + 1024;
    Ok(ws
        .read_buffer_size(4096)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            serve(core, doc, socket, role.can_edit(), who.user_id).await;
            drop(ticket);
        }))
}

async fn serve(core: Core, doc: Arc<LoadedDoc>, socket: WebSocket, can_write: bool, user: UserId) {
    metrics::gauge!("hub_yjs_connections").increment(1.0);
    // This node hears what is sent to the user (a disconnect) while the connection lasts.
    let _route = core.services.routes.hold_user(&user).await;
    let docs = core.services.docs.clone();
    let (queue, out) = WsQueue::new(docs.config.queue_bytes);
    let conn = docs.attach(&doc, Box::new(queue), can_write, &user);
    let (write, read) = socket.split();
    // A peer that stops reading makes `send` fail after the connection's write timeout (see
    // `net`), so this task always ends and the queue's memory goes with it.
    let mut writer = tokio::spawn(write_out(out, write));
    // Whether the writer ended first: the hub dropped the connection (its queue overflowed,
    // or the document went away) or a write failed. Then the connection is over even if its
    // peer, silent, sends nothing more.
    let mut writer_ended = false;
    tracing::debug!(doc = %doc.id, %user, conn, "yjs connection open");
    // The frames that are already read when the last batch is done are handled together (at
    // most `read_batch`, `HUB_DOC_READ_BATCH`): their updates are logged once and relayed as
    // one. An idle editor's frame goes alone, at once; a fast one's keystrokes cost one log row
    // and one frame to each other connection per batch.
    let mut read = read.ready_chunks(docs.config.read_batch.max(1));
    loop {
        let chunk = tokio::select! {
            chunk = read.next() => match chunk {
                Some(chunk) => chunk,
                None => break,
            },
            _ = &mut writer => {
                writer_ended = true;
                break;
            }
        };
        let mut frames: Vec<Bytes> = Vec::with_capacity(chunk.len());
        // What ends the connection after this batch, if anything.
        let mut end = None;
        for message in chunk {
            match message {
                Ok(Message::Binary(b)) => frames.push(b),
                Ok(Message::Close(_)) | Err(_) => {
                    end = Some(End::Gone);
                    break;
                }
                Ok(Message::Text(_)) => {
                    end = Some(End::Text);
                    break;
                }
                Ok(_) => {}
            }
        }
        if !frames.is_empty() {
            metrics::counter!("hub_yjs_frames_total").increment(frames.len() as u64);
            if let Err(e) = docs.receive_many(&doc, conn, &frames).await {
                metrics::counter!("hub_doc_errors_total").increment(1);
                // The detail goes to the log; the close frame carries a short reason.
                tracing::debug!(doc = %doc.id, error = %e, "yjs frame refused");
                docs.close_conn(&doc, conn, CloseReason::Refused(e.code()));
                break;
            }
        }
        match end {
            Some(End::Gone) => break,
            Some(End::Text) => {
                docs.close_conn(&doc, conn, CloseReason::TextFrame);
                break;
            }
            None => {}
        }
    }
    docs.detach(&doc, conn);
    if !writer_ended {
        let _ = writer.await;
    }
    metrics::gauge!("hub_yjs_connections").decrement(1.0);
}

/// What ends a `/yjs` connection once the frames read before it are handled.
enum End {
    /// The peer closed, or the socket broke.
    Gone,
    /// A text frame, which y-protocols never sends (closed with 1003).
    Text,
}

/// The `/yjs` close code of each reason the engine ends a connection: the one place it is
/// decided.
fn close_code(reason: CloseReason) -> u16 {
    match reason {
        CloseReason::Deleted => 4404,
        CloseReason::TooSlow => 1013,
        CloseReason::AccessLost => 4403,
        CloseReason::SessionClosed => 4401,
        CloseReason::Restart => 1012,
        CloseReason::TextFrame => 1003,
        CloseReason::Refused(code) => match code {
            ErrorCode::Invalid => 1003,
            ErrorCode::TooLarge => 1009,
            ErrorCode::NotFound | ErrorCode::RateLimited | ErrorCode::Busy => 1013,
            ErrorCode::Forbidden | ErrorCode::Unauthorized => 4403,
            ErrorCode::Conflict | ErrorCode::Unavailable | ErrorCode::Internal => 1011,
        },
    }
}

/// Writes what is queued for a connection until the hub drops it or a write fails (a peer that
/// stops reading makes `send` fail after the connection's write timeout, see `net`, so this
/// always ends and the queue's memory goes with it).
///
/// Frames that queued up while the last write was in flight go out together: each is still its
/// own WebSocket message, but they share one write (and one syscall) instead of a write and a
/// flush each. At most `FLUSH_EVERY` frames wait for the flush, so a steady stream still goes
/// out in steady writes.
async fn write_out<S>(mut out: WsQueueRx, mut write: S)
where
    S: futures_util::Sink<Message> + Unpin,
{
    while let Some(first) = out.rx.recv().await {
        let mut next = Some(first);
        let mut fed = 0;
        while let Some(item) = next.take() {
            match item {
                WsOut::Frame(frame) => {
                    let len = frame.len();
                    let sent = write.feed(Message::Binary(frame)).await;
                    out.written(len);
                    if sent.is_err() {
                        return;
                    }
                }
                WsOut::Close(code, reason) => {
                    let _ = write.send(close(code, &reason)).await;
                    return;
                }
            }
            fed += 1;
            if fed < FLUSH_EVERY {
                next = out.rx.try_recv().ok();
            }
        }
        if write.flush().await.is_err() {
            return;
        }
    }
    // The hub dropped this connection (it fell behind, or the document went away).
    let _ = write.send(close(1013, "reconnect to resync")).await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: close_reason(reason).into(),
    }))
}

/// RFC 6455 allows 123 bytes of close reason; a longer one makes clients see 1006.
const MAX_CLOSE_REASON: usize = 123;

/// `reason` cut to what a close frame can carry, on a character boundary.
fn close_reason(reason: &str) -> &str {
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
struct WsQueue {
    tx: mpsc::UnboundedSender<WsOut>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// The writer's side: frames to write, and the counter to give their bytes back to.
struct WsQueueRx {
    rx: mpsc::UnboundedReceiver<WsOut>,
    queued: Arc<AtomicUsize>,
}

impl WsQueue {
    fn new(limit: usize) -> (WsQueue, WsQueueRx) {
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
    fn written(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::AcqRel);
    }

    /// Bytes waiting to be written.
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

/// What the writer of a `/yjs` socket is told.
#[derive(Debug)]
enum WsOut {
    Frame(Bytes),
    Close(u16, String),
}

impl DocSink for WsQueue {
    fn send(&self, _doc: &DocId, frame: Bytes) -> bool {
        self.push(frame)
    }

    fn close(&self, _doc: &DocId, reason: CloseReason) {
        let _ = self.tx.send(WsOut::Close(
            close_code(reason),
            close_reason(reason.message()).to_owned(),
        ));
    }

    fn own_connection(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_close_reason_has_its_yjs_close_code() {
        let table = [
            (CloseReason::Deleted, 4404, "document deleted"),
            (CloseReason::Restart, 1012, "server restarting: reconnect"),
            (
                CloseReason::AccessLost,
                4403,
                "no longer a member of the room",
            ),
            (CloseReason::TooSlow, 1013, "too slow: reconnect to resync"),
            (
                CloseReason::SessionClosed,
                4401,
                "session closed by the server",
            ),
            (
                CloseReason::TextFrame,
                1003,
                "binary y-protocols frames only",
            ),
            (
                CloseReason::Refused(ErrorCode::Invalid),
                1003,
                "malformed y-protocols message",
            ),
            (
                CloseReason::Refused(ErrorCode::TooLarge),
                1009,
                "message too large",
            ),
            (
                CloseReason::Refused(ErrorCode::Busy),
                1013,
                "reconnect to resync",
            ),
            (
                CloseReason::Refused(ErrorCode::Forbidden),
                4403,
                "not allowed",
            ),
            (
                CloseReason::Refused(ErrorCode::Internal),
                1011,
                "storage unavailable: reconnect later",
            ),
        ];
        for (reason, code, message) in table {
            assert_eq!((close_code(reason), reason.message()), (code, message));
        }
    }

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

    #[tokio::test]
    async fn the_writer_writes_every_queued_frame_in_order_across_flushes() {
        let (q, rx) = WsQueue::new(1 << 20);
        // More than several flushes' worth queued before the writer starts: every one of them
        // must go out, in order, and give its bytes back.
        let n = FLUSH_EVERY * 3 + 5;
        for i in 0..n {
            assert!(q.push(Bytes::from((i as u32).to_be_bytes().to_vec())));
        }
        let queued = rx.queued.clone();
        drop(q);
        let mut frames: Vec<Message> = Vec::new();
        write_out(rx, &mut frames).await;
        assert_eq!(frames.len(), n + 1);
        for (i, m) in frames[..n].iter().enumerate() {
            assert_eq!(
                m,
                &Message::Binary(Bytes::from((i as u32).to_be_bytes().to_vec()))
            );
        }
        let Message::Close(Some(frame)) = &frames[n] else {
            panic!("not a close: {:?}", frames[n]);
        };
        assert_eq!(frame.code, 1013);
        assert_eq!(queued.load(Ordering::Acquire), 0);
    }

    /// Gives back `n` queued bytes, as a writer that finished would.
    fn rx_written_all(q: &WsQueue, n: usize) {
        q.queued.fetch_sub(n, Ordering::AcqRel);
    }
}
