//! `/yjs/{doc}`: a raw WebSocket speaking y-protocols, byte-compatible with the stock
//! `y-websocket` client (`new WebsocketProvider(url + "/yjs", docId, ydoc, {params: {token}})`).
//!
//! The token (`?token=` or `Authorization: Bearer`) and the access to the document are checked
//! before the upgrade: a refusal is an HTTP error with the JSON body, never a socket. After
//! the upgrade the server sends its sync step 1 and the awareness, answers step 1 with step 2,
//! relays updates to every other connection and awareness to every connection (the sender
//! included), one message per frame. A malformed message closes the socket (1003) without
//! touching the document; a connection whose queue overflows (in bytes) is closed (1013) and
//! resyncs when its client reconnects. Close reasons are short (RFC 6455 allows 123 bytes); the
//! detail goes to the log.

use crate::auth::{AuthError, bearer};
use crate::docs::{LoadedDoc, Sink, WsOut, WsQueue, close_reason};
use crate::error::AppError;
use crate::http::ApiPath;
use crate::http::docs::open_visible;
use crate::state::Core;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use hub_rooms::doc::DocError;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

pub async fn upgrade(
    State(core): State<Core>,
    ApiPath(doc_id): ApiPath<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = match (q.token, header) {
        (Some(t), _) => t,
        (None, Some(h)) => bearer(h).ok_or(AuthError::NotBearer)?.to_owned(),
        (None, None) => return Err(AuthError::Missing.into()),
    };
    let who = core.auth.authenticate(&token).await?;
    let (doc, role) = open_visible(&core, &who, &doc_id).await?;
    let max = core.rt.docs.config.limits.max_update_bytes + 1024;
    Ok(ws
        .read_buffer_size(4096)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            serve(core, doc, socket, role.can_edit(), who.user_id.to_string())
        }))
}

async fn serve(core: Core, doc: Arc<LoadedDoc>, socket: WebSocket, can_write: bool, user: String) {
    metrics::gauge!("hub_yjs_connections").increment(1.0);
    let docs = core.rt.docs.clone();
    let (queue, mut out) = WsQueue::new(docs.config.queue_bytes);
    let conn = docs.attach(&doc, Sink::Ws(queue), can_write, &user);
    let (mut write, mut read) = socket.split();
    // A peer that stops reading makes `send` fail after the connection's write timeout (see
    // `net`), so this task always ends and the queue's memory goes with it.
    let writer = tokio::spawn(async move {
        while let Some(item) = out.rx.recv().await {
            let sent = match item {
                WsOut::Frame(frame) => {
                    let len = frame.len();
                    let sent = write.send(Message::Binary(frame)).await;
                    out.written(len);
                    sent
                }
                WsOut::Close(code, reason) => {
                    let _ = write.send(close(code, &reason)).await;
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
        // The hub dropped this connection (it fell behind, or the document went away).
        let _ = write.send(close(1013, "reconnect to resync")).await;
    });
    tracing::debug!(doc = %doc.id, %user, conn, "yjs connection open");
    while let Some(Ok(message)) = read.next().await {
        let frame = match message {
            Message::Binary(b) => b,
            Message::Close(_) => break,
            Message::Text(_) => {
                docs.close_conn(&doc, conn, 1003, "binary y-protocols frames only");
                break;
            }
            _ => continue,
        };
        metrics::counter!("hub_yjs_frames_total").increment(1);
        if let Err(e) = docs.receive(&doc, conn, &frame).await {
            metrics::counter!("hub_doc_errors_total").increment(1);
            // The detail goes to the log; the close frame carries a short reason.
            tracing::debug!(doc = %doc.id, error = %e, "yjs frame refused");
            let (code, reason) = match e {
                crate::docs::DocsError::Store(_) => (1011, "storage unavailable: reconnect later"),
                crate::docs::DocsError::NotFound => (1013, "reconnect to resync"),
                crate::docs::DocsError::Doc(
                    DocError::UpdateTooLarge { .. }
                    | DocError::DocTooLarge { .. }
                    | DocError::AwarenessTooLarge { .. },
                ) => (1009, "message too large"),
                crate::docs::DocsError::Doc(_) => (1003, "malformed y-protocols message"),
            };
            docs.close_conn(&doc, conn, code, reason);
            break;
        }
    }
    docs.detach(&doc, conn);
    let _ = writer.await;
    metrics::gauge!("hub_yjs_connections").decrement(1.0);
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: close_reason(reason).into(),
    }))
}
