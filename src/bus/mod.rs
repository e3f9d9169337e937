//! The bus carries what must cross nodes, as one typed [`BusMessage`] with one codec: room
//! deliveries and membership changes (every node applies them to its own connections),
//! presence and typing deltas, node heartbeats, document updates and awareness. One node uses the in-process
//! [`LocalBus`]; a cluster uses an implementation over Redis pub/sub with the same contract,
//! so single-node and cluster tests run the same code above it.
//!
//! Contract: `publish` delivers the payload to every subscriber of the topic on every node,
//! the publishing node included, in publish order per publisher. A subscriber that falls
//! behind by more than the channel's capacity loses messages and is told so (`Lagged`): the
//! loss is counted and repaired by the layer above (chat seq gaps, presence resync).

mod local;
mod message;

pub use local::LocalBus;
pub use message::{
    BusMessage, DecodeError, DocFrame, DocFrameKind, Notice, PresenceConn, PresenceDelta,
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

/// Real-time traffic between nodes: room deliveries, socket membership changes, presence and
/// typing deltas, heartbeats. One topic, so that a node applies a presence delta before it
/// delivers the announcement that followed it.
pub const TOPIC_EVENTS: &str = "events";

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

pub trait Bus: Send + Sync + 'static {
    /// Sends `payload` to every subscriber of `topic`, on every node.
    fn publish(&self, topic: &'static str, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>>;
    /// A receiver of everything published on `topic` from now on.
    fn subscribe(&self, topic: &'static str) -> broadcast::Receiver<Bytes>;
    /// `in_process` or `redis`, for health and logs.
    fn kind(&self) -> &'static str;
}

/// Publishes `message` on [`TOPIC_EVENTS`]; a failure is counted
/// (`hub_bus_publish_errors_total{kind}`) and logged, never returned: real-time traffic is
/// repaired by the layers above, not retried here.
pub async fn publish(bus: &dyn Bus, message: &BusMessage) {
    let kind = message.kind();
    let payload = match message.encode() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(kind, error = %e, "cannot encode a bus message");
            return;
        }
    };
    metrics::counter!("hub_bus_messages_out_total", "kind" => kind).increment(1);
    if let Err(e) = bus.publish(TOPIC_EVENTS, payload).await {
        metrics::counter!("hub_bus_publish_errors_total", "kind" => kind).increment(1);
        tracing::error!(kind, error = %e, "bus publish failed");
    }
}
