//! The bus carries what must cross nodes: room deliveries (every node delivers to its own
//! sockets), presence and typing deltas, node heartbeats. One node uses the in-process
//! [`LocalBus`]; a cluster uses an implementation over Redis pub/sub with the same contract,
//! so single-node and cluster tests run the same code above it.
//!
//! Contract: `publish` delivers the payload to every subscriber of the topic on every node,
//! the publishing node included, in publish order per publisher. A subscriber that falls
//! behind by more than the channel's capacity loses messages and is told so (`Lagged`): the
//! loss is counted and repaired by the layer above (chat seq gaps, presence resync).

mod local;

pub use local::LocalBus;

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

/// Publishes `message` as JSON behind a one-byte `tag` on [`TOPIC_EVENTS`]; a failure is
/// counted (`hub_bus_publish_errors_total{kind}`) and logged, never returned: real-time
/// traffic is repaired by the layers above, not retried here.
pub async fn publish_tagged<T: serde::Serialize + ?Sized>(
    bus: &dyn Bus,
    tag: u8,
    kind: &'static str,
    message: &T,
) {
    let mut payload = vec![tag];
    if let Err(e) = serde_json::to_writer(&mut payload, message) {
        tracing::error!(kind, error = %e, "cannot encode a bus message");
        return;
    }
    if let Err(e) = bus.publish(TOPIC_EVENTS, Bytes::from(payload)).await {
        metrics::counter!("hub_bus_publish_errors_total", "kind" => kind).increment(1);
        tracing::error!(kind, error = %e, "bus publish failed");
    }
}
