//! The bus carries what must cross nodes, as one typed [`BusMessage`] with one codec: room
//! deliveries and membership changes (every node applies them to its own connections),
//! presence and typing deltas, node heartbeats, document updates and awareness. One node uses the in-process
//! [`LocalBus`]; a cluster uses an implementation over Redis pub/sub with the same contract,
//! so single-node and cluster tests run the same code above it.
//!
//! Gap marker: an empty payload is never a message. A bus hands one to every receiver when it
//! may have lost messages for them (a Redis reconnect); receivers repair as after `Lagged`.
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

pub mod liveness;
mod local;
mod message;
mod redis;

pub use liveness::{Liveness, NodeChange};
pub use local::LocalBus;
pub use message::{
    BusMessage, DecodeError, DocFrame, DocFrameKind, NodeEvent, Notice, PresenceConn, PresenceDelta,
};
pub use redis::RedisBus;

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

    /// A topic by its name as the transport carries it.
    pub(crate) fn from_name(name: &str) -> Topic {
        Topic(Arc::from(name))
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
    /// A receiver of everything published on `topic` on this node from now on, and on every
    /// node once [`Subscription::ready`] completes. A node may hold several receivers of one
    /// topic; each gets every message.
    fn subscribe(&self, topic: &Topic) -> Subscription;
    /// This node no longer needs `topic`: once its receivers of it are dropped, the node stops
    /// hearing it (and frees what it kept for it). Receivers still held keep receiving.
    fn unsubscribe(&self, topic: &Topic);
    /// Topics this node hears now, for health and tests.
    fn topics(&self) -> Vec<Topic>;
    /// `in_process` or `redis`, for health and logs.
    fn kind(&self) -> &'static str;
    /// The state of the link to the other nodes: `None` when there is none to check (one
    /// process), `Some(Err(why))` while it is down.
    fn health(&self) -> BoxFuture<'_, Option<Result<(), String>>> {
        Box::pin(async { None })
    }
}

/// A topic taken by this node.
pub struct Subscription {
    pub rx: broadcast::Receiver<Bytes>,
    /// Completes once the other nodes' messages on the topic reach `rx` (at once in one
    /// process; once Redis confirmed the subscription in a cluster, or at once while Redis is
    /// away: the gap marker then follows when it returns).
    pub ready: BoxFuture<'static, ()>,
}

impl Subscription {
    /// The receiver, once the subscription is in force everywhere.
    pub async fn in_force(self) -> broadcast::Receiver<Bytes> {
        self.ready.await;
        self.rx
    }
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
