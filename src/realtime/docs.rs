//! Documents over the main Socket.IO connection, many per socket: `doc:join {doc}` →
//! `{doc, role, can_write}` (the server then sends its sync step 1 and the awareness as
//! `doc:msg`), `doc:msg (doc_id, bytes)` in both directions with exactly one y-protocols
//! message, `doc:leave {doc}`. A `doc:msg` that fails is answered on its ack when one was asked
//! and always reported as `doc:error {doc, error}`.

use super::ack::{EventError, malformed, respond};
use super::payload::Payload;
use crate::auth::Identity;
use crate::error::DomainError;
use crate::services::docs::{CloseReason, DocSink, DocsError, LoadedDoc};
use crate::state::Core;
use bytes::Bytes;
use hub_protocol::docs::{DocJoined, DocRef};
use hub_protocol::realtime::Done;
use hub_protocol::realtime::client;
use hub_protocol::{DocId, ErrorCode, RoomId};
use hub_rooms::doc::ConnKey;
use socketioxide::extract::{AckSender, Extension, SocketRef, State};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The documents a socket has joined.
#[derive(Clone, Default)]
pub struct SocketDocs(Arc<Mutex<Joined>>);

/// Each joined document and the socket's connection to it.
type Joined = HashMap<DocId, (Arc<LoadedDoc>, ConnKey)>;

impl SocketDocs {
    fn with<T>(&self, f: impl FnOnce(&mut Joined) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A document connection over this socket: frames go out as `doc:msg (doc, bytes)`, a close
/// as `doc:removed {doc, reason}`; a full socket buffer disconnects it as a slow consumer.
struct SocketSink(SocketRef);

impl DocSink for SocketSink {
    fn send(&self, doc: &DocId, frame: Bytes) -> bool {
        super::emit::to_socket(
            &self.0,
            hub_protocol::realtime::server::DocMsgEvent,
            &(doc.clone(), frame),
        )
    }

    fn close(&self, doc: &DocId, reason: CloseReason) {
        super::emit::to_socket(
            &self.0,
            hub_protocol::realtime::server::DocRemovedEvent,
            &hub_protocol::docs::DocRemoved {
                doc: doc.clone(),
                reason: reason.message().to_owned(),
            },
        );
    }
}

fn doc_error(e: DocsError) -> EventError {
    match e {
        // Over Socket.IO, a document the socket does not follow.
        DocsError::NotFound => EventError::new(
            ErrorCode::NotFound,
            "not joined to this document: doc:join it again",
        ),
        other => EventError::new(other.code(), other.public_message()),
    }
}

pub async fn join(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    Extension(mine): Extension<SocketDocs>,
    State(core): State<Core>,
    Payload(req): Payload<DocRef>,
) {
    respond(client::DocJoinEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::DOC_JOIN, "{doc}"))?;
        let (row, role) = core.services.access.doc(&who.user_id, &req.doc).await?;
        let already = mine.with(|m| m.contains_key(&req.doc));
        if !already && mine.with(|m| m.len()) >= core.services.docs.config.max_docs_per_socket {
            return Err(EventError::new(
                ErrorCode::TooLarge,
                format!(
                    "at most {} documents per connection",
                    core.services.docs.config.max_docs_per_socket
                ),
            ));
        }
        if !already {
            let doc = core
                .services
                .docs
                .open(&req.doc, &RoomId::from(row.room))
                .await
                .map_err(doc_error)?;
            let conn = core.services.docs.attach(
                &doc,
                Box::new(SocketSink(s.clone())),
                role.can_edit(),
                &who.user_id,
            );
            mine.with(|m| m.insert(req.doc.clone(), (doc, conn)));
        }
        Ok(DocJoined {
            doc: req.doc,
            role,
            can_write: role.can_edit(),
        })
    })
    .await;
}

pub async fn leave(
    ack: AckSender,
    Extension(who): Extension<Identity>,
    Extension(mine): Extension<SocketDocs>,
    State(core): State<Core>,
    Payload(req): Payload<DocRef>,
) {
    respond(client::DocLeaveEvent, who.user_id.as_str(), ack, async {
        let req = req.map_err(malformed(client::DOC_LEAVE, "{doc}"))?;
        if let Some((doc, conn)) = mine.with(|m| m.remove(&req.doc)) {
            core.services.docs.detach(&doc, conn);
        }
        Ok(Done {})
    })
    .await;
}

pub async fn message(
    s: SocketRef,
    ack: AckSender,
    Extension(who): Extension<Identity>,
    Extension(mine): Extension<SocketDocs>,
    State(core): State<Core>,
    Payload(req): Payload<(DocId, Bytes)>,
) {
    let mut failed: Option<(DocId, EventError)> = None;
    respond(client::DocMsgEvent, who.user_id.as_str(), ack, async {
        let (id, frame) = req.map_err(malformed(client::DOC_MSG, "(doc_id, bytes)"))?;
        let Some((doc, conn)) = mine.with(|m| m.get(&id).cloned()) else {
            let err = EventError::new(
                ErrorCode::NotFound,
                "not joined to this document: doc:join it first",
            );
            failed = Some((id, err.clone()));
            return Err(err);
        };
        match core.services.docs.receive(&doc, conn, &frame).await {
            Ok(received) if received.refused > 0 => {
                let err = EventError::new(
                    ErrorCode::Forbidden,
                    "read-only: your role in this room cannot edit the document",
                );
                failed = Some((id, err.clone()));
                Err(err)
            }
            Ok(_) => Ok(Done {}),
            Err(e) => {
                let err = doc_error(e);
                failed = Some((id, err.clone()));
                Err(err)
            }
        }
    })
    .await;
    if let Some((doc, err)) = failed {
        metrics::counter!("hub_doc_errors_total").increment(1);
        super::emit::to_socket(
            &s,
            hub_protocol::realtime::server::DocErrorEvent,
            &hub_protocol::docs::DocError {
                doc,
                error: hub_protocol::ErrorDetail {
                    code: err.code,
                    message: err.message,
                },
            },
        );
    }
}

/// The socket disconnected: it leaves every document.
pub fn leave_all(core: &Core, mine: &SocketDocs) {
    for (_, (doc, conn)) in mine.with(std::mem::take) {
        core.services.docs.detach(&doc, conn);
    }
}
