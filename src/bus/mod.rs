//! The bus carries what must cross nodes, as one typed [`BusMessage`] with one codec: room
//! deliveries and membership changes (every node applies them to its own connections),
//! presence and typing deltas, node heartbeats, document updates and awareness. One node uses the in-process
//! [`LocalBus`]; a cluster uses an implementation over Redis pub/sub with the same contract,
//! so single-node and cluster tests run the same code above it.
//!
//! Contract: `publish` delivers the payload to every subscriber of the topic on every node,
//! the publishing node included, in publish order per publisher and topic. A subscriber that
//! falls behind by more than the channel's capacity loses messages and is told so (`Lagged`):
//! the loss is counted and repaired by the layer above (chat seq gaps, presence resync,
//! document log re-read).
//!
//! Topics are named and taken at run time: [`Topic::events`] is held by every node for its
//! whole life; a node subscribes to [`Topic::doc`] when it loads that document and
//! unsubscribes when it unloads it, so a node hears only the documents it holds. Ordering holds
//! within one topic only: presence deltas and the announcements that follow them share the
//! events topic, so a node applies a delta before it delivers what followed it.

mod local;
mod message;

pub use local::LocalBus;
pub use message::{
    BusMessage, DecodeError, DocFrame, DocFrameKind, Notice, PresenceConn, PresenceDelta,
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use hub_protocol::DocId;
use std::fmt;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A bus topic's name. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(Arc<str>);

impl Topic {
    /// Real-time traffic between nodes: room deliveries, socket membership changes, presence
    /// and typing deltas, heartbeats. One topic, so that a node applies a presence delta before
    /// it delivers the announcement that followed it.
    pub fn events() -> Topic {
        Topic(Arc::from("events"))
    }

    /// Updates and awareness of one document, heard by the nodes that hold it.
    pub fn doc(id: &DocId) -> Topic {
        Topic(Arc::from(format!("doc:{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

pub trait Bus: Send + Sync + 'static {
    /// Sends `payload` to every subscriber of `topic`, on every node.
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>>;
    /// A receiver of everything published on `topic` from now on. A node may hold several
    /// receivers of one topic; each gets every message.
    fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Bytes>;
    /// This node no longer needs `topic`: once its receivers of it are dropped, the node stops
    /// hearing it (and frees what it kept for it). Receivers still held keep receiving.
    fn unsubscribe(&self, topic: &Topic);
    /// Topics this node hears now, for health and tests.
    fn topics(&self) -> Vec<Topic>;
    /// `in_process` or `redis`, for health and logs.
    fn kind(&self) -> &'static str;
}

/// Publishes `message` on `topic`; a failure is counted (`hub_bus_publish_errors_total{kind}`)
/// and logged, never returned: real-time traffic is repaired by the layers above, not retried
/// here.
pub async fn publish(bus: &dyn Bus, topic: &Topic, message: &BusMessage) {
    let kind = message.kind();
    let payload = match message.encode() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(kind, error = %e, "cannot encode a bus message");
            return;
        }
    };
    metrics::counter!("hub_bus_messages_out_total", "kind" => kind).increment(1);
    if let Err(e) = bus.publish(topic, payload).await {
        metrics::counter!("hub_bus_publish_errors_total", "kind" => kind).increment(1);
        tracing::error!(kind, error = %e, "bus publish failed");
    }
}
