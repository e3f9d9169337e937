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
