//! The in-process bus: one broadcast channel per topic. Cloning a `LocalBus` shares it, so
//! several hubs in one process (as in tests) form a cluster without Redis.

use super::{Bus, BusError, Subscription, Topic};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Messages a subscriber may fall behind by before it lags: on the one events topic...
const CAPACITY: usize = 65_536;
/// ...and on a document's topic. A broadcast channel allocates all its slots when it is made
/// (about 56 bytes each), and every loaded document has a topic: 65,536 slots would cost each
/// one 3.5 MiB, 1,024 cost it 56 KiB. The one listener of a document's topic only hands frames
/// to connection queues, and one that lags re-reads the document's log, losing nothing.
const DOC_CAPACITY: usize = 1_024;

#[derive(Clone)]
pub struct LocalBus {
    topics: Arc<Mutex<HashMap<Topic, broadcast::Sender<Bytes>>>>,
    capacity: usize,
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

    /// A bus whose subscribers lag after falling `capacity` messages behind (tests use a small
    /// one to make a listener lag).
    pub fn with_capacity(capacity: usize) -> Self {
        LocalBus {
            topics: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// Hands `payload` to the receivers of `topic`, now. A topic nobody holds is not an error:
    /// the message has no one to reach.
    pub(super) fn send(&self, topic: &Topic, payload: Bytes) {
        if let Some(sender) = self.lock_topics().get(topic) {
            let _ = sender.send(payload);
        }
    }

    /// A receiver of `topic`, taking the topic if nobody holds it.
    pub(super) fn receiver(&self, topic: &Topic) -> broadcast::Receiver<Bytes> {
        self.lock_topics()
            .entry(topic.clone())
            .or_insert_with(|| broadcast::channel(self.capacity_of(topic)).0)
            .subscribe()
    }

    /// How far a receiver of `topic` may fall behind.
    fn capacity_of(&self, topic: &Topic) -> usize {
        if *topic == Topic::events() {
            self.capacity
        } else {
            self.capacity.min(DOC_CAPACITY)
        }
    }

    fn lock_topics(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, broadcast::Sender<Bytes>>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        self.send(topic, payload);
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        Subscription {
            rx: self.receiver(topic),
            ready: Box::pin(async {}),
        }
    }

    fn unsubscribe(&self, topic: &Topic) {
        let mut topics = self.lock_topics();
        if topics
            .get(topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            topics.remove(topic);
        }
    }

    fn topics(&self) -> Vec<Topic> {
        let mut held: Vec<Topic> = self.lock_topics().keys().cloned().collect();
        held.sort();
        held
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
        let t = Topic::events();
        let mut a = bus.subscribe(&t).rx;
        let mut b = bus.clone().subscribe(&t).rx;
        let mut other = bus.subscribe(&Topic::doc(&DocId::from("d"))).rx;
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
    async fn a_document_topic_holds_1024_messages_the_events_topic_65536() {
        use tokio::sync::broadcast::error::RecvError;
        let bus = LocalBus::new();
        let (doc, events) = (Topic::doc(&DocId::from("d")), Topic::events());
        let (mut doc_rx, mut events_rx) = (bus.subscribe(&doc).rx, bus.subscribe(&events).rx);
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
