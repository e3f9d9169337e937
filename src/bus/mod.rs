//! The bus carries what must cross nodes, as one typed [`BusMessage`] with one codec: room
//! deliveries and membership changes (every node applies them to its own connections),
//! presence and typing deltas, node heartbeats, document updates and awareness. One node uses
//! the in-process [`LocalBus`]; a cluster uses an implementation over Redis pub/sub (one Redis,
//! or a Redis Cluster with sharded pub/sub) with the same contract, so single-node and cluster
//! tests run the same code above it.
//!
//! Interest-based routing: a node hears only what concerns its connections.
//! - [`Topic::control`] is the small shared channel every node hears for its whole life: node
//!   liveness and cluster-wide control (membership changes, revocations, webhook reloads).
//! - [`Topic::room`] carries one room's deliveries, presence and typing (a user's personal room
//!   `user:{id}` carries what is sent to that user). A node [`listens`](Bus::listen) to a room's
//!   topic while it holds a connection there, and stops when it no longer does.
//! - The control topic and every room topic a node listens to arrive in the node's one
//!   [`inbox`](Bus::inbox), in arrival order: a node holds one receiver whatever the number of
//!   rooms it serves, and keeps nothing per room on the bus.
//! - [`Topic::doc`] is a document's; a node [`subscribes`](Bus::subscribe) to it with a
//!   receiver of its own while it holds the document.
//!
//! Gap marker: an empty payload is never a message. A bus hands one to every receiver (the
//! inbox included) when it may have lost messages for them (a Redis reconnect, a failover);
//! receivers repair as after `Lagged`.
//!
//! Contract: `publish` delivers the payload to every node that hears the topic, the publishing
//! node included (at once, without waiting for Redis), in publish order per publisher and
//! topic. Ordering holds within one topic only: a room's presence deltas and its deliveries
//! share the room's topic. A receiver that falls behind by more than its channel's capacity
//! loses messages and is told so (`Lagged`): the loss is counted and repaired by the layer
//! above (chat seq gaps, presence resync, document log re-read).

pub mod liveness;
mod local;
mod message;
mod redis;

pub use liveness::{Liveness, NodeChange};
pub use local::LocalBus;
pub use message::{
    BusMessage, DecodeError, DocFrame, DocFrameKind, NodeEvent, Notice, PresenceConn, PresenceDelta,
};
pub use redis::{RedisBus, cluster_nodes};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use hub_protocol::{DocId, RoomId};
use std::fmt;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A bus topic's name. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(Arc<str>);

impl Topic {
    /// The shared channel every node hears: node liveness and cluster-wide control.
    pub fn control() -> Topic {
        Topic(Arc::from(CONTROL))
    }

    /// One room's deliveries, presence and typing, heard by the nodes that hold a connection
    /// in it (a user's personal room: by the nodes that hold one of their connections).
    pub fn room(id: &RoomId) -> Topic {
        Topic(Arc::from(format!("{ROOM}{id}")))
    }

    /// Updates and awareness of one document, heard by the nodes that hold it.
    pub fn doc(id: &DocId) -> Topic {
        Topic(Arc::from(format!("doc:{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the topic arrives in the node's inbox (the control topic and room topics), not
    /// on a receiver of its own (documents).
    pub fn is_routed(&self) -> bool {
        self.is_control() || self.0.starts_with(ROOM)
    }

    pub fn is_control(&self) -> bool {
        &*self.0 == CONTROL
    }

    /// The room of a room topic.
    pub fn room_id(&self) -> Option<RoomId> {
        self.0.strip_prefix(ROOM).map(RoomId::from)
    }

    /// A topic by its name as the transport carries it.
    pub(crate) fn from_name(name: &str) -> Topic {
        Topic(Arc::from(name))
    }
}

const CONTROL: &str = "control";
const ROOM: &str = "room:";

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
    /// Sends `payload` to every node that hears `topic`, this one included.
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>>;
    /// This node's inbox: from now on, everything published on the control topic and on the
    /// room topics this node listens to. Taken once, by the services.
    fn inbox(&self) -> Subscription;
    /// From now on the node hears `topic` (a room topic) in its inbox here; the future
    /// completes once it hears it from every node (at once in one process). Idempotent.
    fn listen(&self, topic: &Topic) -> BoxFuture<'static, ()>;
    /// The node no longer hears `topic` in its inbox.
    fn unlisten(&self, topic: &Topic);
    /// How many nodes hear `topic` now, this one included; `None` when that cannot be told
    /// now (Redis away).
    fn listeners(&self, topic: &Topic) -> BoxFuture<'_, Option<usize>>;
    /// A receiver of everything published on `topic` (a document topic) on this node from now
    /// on, and on every node once [`Subscription::ready`] completes. A node may hold several
    /// receivers of one topic; each gets every message.
    fn subscribe(&self, topic: &Topic) -> Subscription;
    /// This node no longer needs `topic`: once its receivers of it are dropped, the node stops
    /// hearing it (and frees what it kept for it). Receivers still held keep receiving.
    fn unsubscribe(&self, topic: &Topic);
    /// Topics this node hears now (room topics it listens to and documents it subscribed to;
    /// the control topic is always heard), sorted, for health and tests.
    fn topics(&self) -> Vec<Topic>;
    /// Returns once what this node published so far has left it (sent to Redis), or could
    /// not: a stopping node flushes before it exits.
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// `in_process`, `redis` or `redis_cluster`, for health and logs.
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
