//! A document across nodes: what a node applies goes out on the document's topic, and what the
//! other nodes apply comes in from it and is relayed to this node's connections; a listener
//! that falls behind re-reads the log.

use super::{Docs, LoadedDoc};
use crate::bus::{Bus, BusMessage, DocFrame, DocFrameKind, Topic, publish};
use bytes::Bytes;
use hub_rooms::doc::Outcome;
use std::sync::{Arc, Weak};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::oneshot;

impl Docs {
    pub(super) async fn publish(&self, doc: &LoadedDoc, kind: DocFrameKind, frame: &[u8]) {
        let message = BusMessage::Doc(DocFrame {
            kind,
            node: self.node.clone(),
            doc: doc.id.clone(),
            room: doc.room.clone(),
            frame: Bytes::copy_from_slice(frame),
        });
        publish(self.bus.as_ref(), &Topic::doc(&doc.id), &message).await;
    }

    /// A frame from the document's topic: applied and relayed to this node's connections
    /// unless this node sent it.
    fn receive_from_bus(&self, doc: &LoadedDoc, message: DocFrame) {
        if message.node == self.node || message.doc != doc.id {
            return;
        }
        let (kind, id, frame) = (message.kind, &doc.id, &message.frame[..]);
        let outcome = {
            let mut inner = doc.lock();
            match kind {
                DocFrameKind::Update => match inner.session.apply(frame) {
                    Ok(Some(update)) => Outcome {
                        others: vec![hub_rooms::doc::update_frame(&update)],
                        ..Outcome::default()
                    },
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(doc = %id, error = %e, "update from another node refused");
                        return;
                    }
                },
                DocFrameKind::Awareness => {
                    if let Err(e) = inner.session.apply_remote_awareness(frame) {
                        tracing::warn!(doc = %id, error = %e, "awareness from another node refused");
                        return;
                    }
                    Outcome {
                        others: vec![frame.to_vec()],
                        ..Outcome::default()
                    }
                }
            }
        };
        self.relay(doc, None, &outcome);
    }

    /// Hears a loaded document's topic until the document unloads (`stop` fires) or goes, then
    /// releases the topic.
    pub(super) async fn listen(
        bus: Arc<dyn Bus>,
        topic: Topic,
        docs: Weak<Docs>,
        doc: Weak<LoadedDoc>,
        rx: broadcast::Receiver<Bytes>,
        stop: oneshot::Receiver<()>,
    ) {
        tokio::select! {
            _ = stop => {}
            _ = hear(docs, doc, rx) => {}
        }
        // The receiver is gone with `hear`'s future: nobody on this node holds the topic now,
        // unless the document was loaded again meanwhile (its new listener holds it).
        bus.unsubscribe(&topic);
    }
}

async fn hear(docs: Weak<Docs>, doc: Weak<LoadedDoc>, mut rx: broadcast::Receiver<Bytes>) {
    loop {
        let received = rx.recv().await;
        let (Some(docs), Some(doc)) = (docs.upgrade(), doc.upgrade()) else {
            return;
        };
        match received {
            // The bus's gap marker: what it lost is in the log.
            Ok(payload) if payload.is_empty() => docs.resync(&doc).await,
            Ok(payload) => match BusMessage::decode(&payload) {
                Ok(BusMessage::Doc(frame)) => {
                    metrics::counter!("hub_bus_messages_in_total", "kind" => "doc").increment(1);
                    docs.receive_from_bus(&doc, frame);
                }
                Ok(other) => {
                    tracing::warn!(doc = %doc.id, kind = other.kind(), "unexpected message on a document topic")
                }
                Err(e) => tracing::warn!(doc = %doc.id, error = %e, "dropping a bus message"),
            },
            Err(RecvError::Lagged(n)) => {
                metrics::counter!("hub_bus_lagged_total").increment(n);
                tracing::warn!(doc = %doc.id, missed = n, "fell behind a document's topic; re-reading its log");
                docs.resync(&doc).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}
