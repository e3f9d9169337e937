//! The in-process bus. A `LocalBus` is one node on a fabric: [`LocalBus::new`] makes a fabric
//! with one node (a hub alone), and [`LocalBus::node`] another node on the same fabric, so
//! several hubs in one process (as in tests) form a cluster without Redis and route by interest
//! as a Redis cluster does. The Redis buses use a one-node fabric for what reaches this node.

use super::{Bus, BusError, Subscription, Topic};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::broadcast;

/// Messages a node's inbox may fall behind by before it lags...
const CAPACITY: usize = 65_536;
/// ...and a document's topic. A broadcast channel allocates all its slots when it is made
/// (about 56 bytes each), and every loaded document has a topic: 65,536 slots would cost each
/// one 3.5 MiB, 1,024 cost it 56 KiB. The one listener of a document's topic only hands frames
/// to connection queues, and one that lags re-reads the document's log, losing nothing. Rooms
/// have no channel of their own: they arrive in the node's one inbox.
const DOC_CAPACITY: usize = 1_024;

/// What the nodes of one process share.
struct Fabric {
    /// Document topics: one channel per topic, shared by every node's receivers.
    docs: Mutex<HashMap<Topic, broadcast::Sender<Bytes>>>,
    /// The nodes; a node whose every handle was dropped is skipped and pruned.
    nodes: Mutex<Vec<Weak<Node>>>,
    capacity: usize,
}

/// One node: its inbox and the room topics it listens to.
struct Node {
    inbox: broadcast::Sender<Bytes>,
    listening: Mutex<HashSet<Topic>>,
}

impl Node {
    fn hears(&self, topic: &Topic) -> bool {
        topic.is_control() || lock(&self.listening).contains(topic)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone)]
pub struct LocalBus {
    fabric: Arc<Fabric>,
    node: Arc<Node>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// A bus whose receivers lag after falling `capacity` messages behind (tests use a small
    /// one to make a listener lag).
    pub fn with_capacity(capacity: usize) -> Self {
        let fabric = Arc::new(Fabric {
            docs: Mutex::default(),
            nodes: Mutex::default(),
            capacity: capacity.max(1),
        });
        LocalBus::join(fabric)
    }

    /// Another node on this bus's fabric, with an inbox and interests of its own.
    pub fn node(&self) -> LocalBus {
        LocalBus::join(self.fabric.clone())
    }

    fn join(fabric: Arc<Fabric>) -> LocalBus {
        let node = Arc::new(Node {
            inbox: broadcast::channel(fabric.capacity).0,
            listening: Mutex::default(),
        });
        let mut nodes = lock(&fabric.nodes);
        nodes.retain(|n| n.strong_count() > 0);
        nodes.push(Arc::downgrade(&node));
        drop(nodes);
        LocalBus { fabric, node }
    }

    fn nodes(&self) -> Vec<Arc<Node>> {
        lock(&self.fabric.nodes)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Hands `payload` to every node of the fabric that hears `topic`, now. A topic nobody
    /// hears is not an error: the message has no one to reach.
    pub(super) fn send(&self, topic: &Topic, payload: Bytes) {
        if topic.is_routed() {
            for node in self.nodes() {
                if node.hears(topic) {
                    let _ = node.inbox.send(payload.clone());
                }
            }
        } else if let Some(sender) = lock(&self.fabric.docs).get(topic) {
            let _ = sender.send(payload);
        }
    }

    /// Hands every receiver of this node (its inbox and its document receivers) a gap marker.
    pub(super) fn gap(&self) {
        let _ = self.node.inbox.send(Bytes::new());
        for sender in lock(&self.fabric.docs).values() {
            let _ = sender.send(Bytes::new());
        }
    }

    /// A receiver of `topic` (a document's), taking the topic if nobody holds it.
    pub(super) fn receiver(&self, topic: &Topic) -> broadcast::Receiver<Bytes> {
        lock(&self.fabric.docs)
            .entry(topic.clone())
            .or_insert_with(|| broadcast::channel(self.fabric.capacity.min(DOC_CAPACITY)).0)
            .subscribe()
    }

    /// Whether this node hears `topic` (a room's) in its inbox.
    pub(super) fn hears(&self, topic: &Topic) -> bool {
        self.node.hears(topic)
    }

    /// Adds or removes `topic` from what this node hears; whether that changed anything.
    pub(super) fn set_listening(&self, topic: &Topic, on: bool) -> bool {
        let mut listening = lock(&self.node.listening);
        if on {
            listening.insert(topic.clone())
        } else {
            listening.remove(topic)
        }
    }

    /// Document topics with a receiver, and room topics this node hears.
    pub(super) fn held(&self) -> Vec<Topic> {
        let mut held: Vec<Topic> = lock(&self.fabric.docs).keys().cloned().collect();
        held.extend(lock(&self.node.listening).iter().cloned());
        held.sort();
        held.dedup();
        held
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        self.send(topic, payload);
        Box::pin(async { Ok(()) })
    }

    fn inbox(&self) -> Subscription {
        Subscription {
            rx: self.node.inbox.subscribe(),
            ready: Box::pin(async {}),
        }
    }

    fn listen(&self, topic: &Topic) -> BoxFuture<'static, ()> {
        self.set_listening(topic, true);
        Box::pin(async {})
    }

    fn unlisten(&self, topic: &Topic) {
        self.set_listening(topic, false);
    }

    fn listeners(&self, topic: &Topic) -> BoxFuture<'_, Option<usize>> {
        let n = self.nodes().iter().filter(|n| n.hears(topic)).count();
        Box::pin(async move { Some(n) })
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        Subscription {
            rx: self.receiver(topic),
            ready: Box::pin(async {}),
        }
    }

    fn unsubscribe(&self, topic: &Topic) {
        let mut docs = lock(&self.fabric.docs);
        if docs
            .get(topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            docs.remove(topic);
        }
    }

    fn topics(&self) -> Vec<Topic> {
        self.held()
    }

    fn kind(&self) -> &'static str {
        "in_process"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hub_protocol::DocId;
    use tokio::sync::broadcast::error::TryRecvError;

    #[tokio::test]
    async fn every_subscriber_gets_every_message_in_order() {
        let bus = LocalBus::new();
        let t = Topic::doc(&DocId::from("d"));
        let mut a = bus.subscribe(&t).rx;
        let mut b = bus.clone().subscribe(&t).rx;
        let mut other = bus.subscribe(&Topic::doc(&DocId::from("e"))).rx;
        for i in 0..3u8 {
            bus.publish(&t, Bytes::from(vec![i])).await.unwrap();
        }
        for rx in [&mut a, &mut b] {
            for i in 0..3u8 {
                assert_eq!(rx.recv().await.unwrap(), Bytes::from(vec![i]));
            }
        }
        assert!(other.try_recv().is_err(), "topics are separate");
    }

    #[tokio::test]
    async fn a_node_hears_the_control_topic_and_the_rooms_it_listens_to_only() {
        let a = LocalBus::new();
        let (b, c) = (a.node(), a.node());
        let (mut in_a, mut in_b, mut in_c) = (a.inbox().rx, b.inbox().rx, c.inbox().rx);
        let (r1, r2) = (
            Topic::room(&"venture:1".into()),
            Topic::room(&"venture:2".into()),
        );
        assert_eq!(r1.as_str(), "room:venture:1");
        assert_eq!(r1.room_id(), Some("venture:1".into()));
        assert!(r1.is_routed() && Topic::control().is_routed());
        assert!(!Topic::doc(&DocId::from("d")).is_routed());
        a.listen(&r1).await;
        b.listen(&r1).await;
        b.listen(&r2).await;
        assert_eq!(a.listeners(&r1).await, Some(2));
        assert_eq!(a.listeners(&r2).await, Some(1));
        assert_eq!(a.listeners(&Topic::control()).await, Some(3));
        // c publishes in rooms it does not hear itself: the listeners get it, c does not.
        c.publish(&r1, Bytes::from_static(b"1")).await.unwrap();
        c.publish(&r2, Bytes::from_static(b"2")).await.unwrap();
        c.publish(&Topic::control(), Bytes::from_static(b"c"))
            .await
            .unwrap();
        assert_eq!(in_a.recv().await.unwrap(), Bytes::from_static(b"1"));
        assert_eq!(in_a.recv().await.unwrap(), Bytes::from_static(b"c"));
        assert!(matches!(in_a.try_recv(), Err(TryRecvError::Empty)));
        for want in [&b"1"[..], b"2", b"c"] {
            assert_eq!(in_b.recv().await.unwrap(), Bytes::from_static(want));
        }
        assert_eq!(in_c.recv().await.unwrap(), Bytes::from_static(b"c"));
        assert!(matches!(in_c.try_recv(), Err(TryRecvError::Empty)));
        b.unlisten(&r1);
        assert_eq!(b.topics(), vec![r2.clone()]);
        a.publish(&r1, Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(in_a.recv().await.unwrap(), Bytes::from_static(b"x"));
        assert!(matches!(in_b.try_recv(), Err(TryRecvError::Empty)));
        // A node whose handles are all gone no longer counts.
        drop((b, in_b));
        assert_eq!(a.listeners(&r2).await, Some(0));
    }

    #[tokio::test]
    async fn a_document_topic_holds_1024_messages_the_inbox_65536() {
        use tokio::sync::broadcast::error::RecvError;
        let bus = LocalBus::new();
        let (doc, events) = (Topic::doc(&DocId::from("d")), Topic::control());
        let (mut doc_rx, mut events_rx) = (bus.subscribe(&doc).rx, bus.inbox().rx);
        for i in 0..DOC_CAPACITY as u32 + 1 {
            let payload = Bytes::from(i.to_be_bytes().to_vec());
            bus.publish(&doc, payload.clone()).await.unwrap();
            bus.publish(&events, payload).await.unwrap();
        }
        // One past the document's backlog: its listener is told it missed the first one.
        assert_eq!(doc_rx.recv().await, Err(RecvError::Lagged(1)));
        assert_eq!(
            doc_rx.recv().await.unwrap(),
            Bytes::from(1u32.to_be_bytes().to_vec())
        );
        assert_eq!(
            events_rx.recv().await.unwrap(),
            Bytes::from(0u32.to_be_bytes().to_vec())
        );
        assert_eq!(events_rx.len(), DOC_CAPACITY);
        assert_eq!(CAPACITY, 65_536);
        assert_eq!(DOC_CAPACITY, 1_024);
    }

    #[tokio::test]
    async fn a_topic_is_taken_and_released_at_run_time() {
        let bus = LocalBus::new();
        let doc = Topic::doc(&DocId::from("d1"));
        assert_eq!(doc.as_str(), "doc:d1");
        // Published before anyone holds the topic: reaches no one, later subscribers included.
        bus.publish(&doc, Bytes::from_static(b"early"))
            .await
            .unwrap();
        let mut rx = bus.subscribe(&doc).rx;
        assert_eq!(bus.topics(), vec![doc.clone()]);
        bus.publish(&doc, Bytes::from_static(b"on")).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Bytes::from_static(b"on"));
        // Still held by a receiver: unsubscribing keeps it.
        bus.unsubscribe(&doc);
        assert_eq!(bus.topics(), vec![doc.clone()]);
        drop(rx);
        bus.unsubscribe(&doc);
        assert!(bus.topics().is_empty(), "released once nobody holds it");
        let mut again = bus.subscribe(&doc).rx;
        bus.publish(&doc, Bytes::from_static(b"back"))
            .await
            .unwrap();
        assert_eq!(again.recv().await.unwrap(), Bytes::from_static(b"back"));
        assert!(matches!(again.try_recv(), Err(TryRecvError::Empty)));
    }
}
