//! The in-process bus: one broadcast channel per topic. Cloning a `LocalBus` shares it, so
//! several hubs in one process (as in tests) form a cluster without Redis.

use super::{Bus, BusError};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Messages a subscriber may fall behind by before it lags.
const CAPACITY: usize = 65_536;

#[derive(Clone, Default)]
pub struct LocalBus {
    topics: Arc<Mutex<HashMap<&'static str, broadcast::Sender<Bytes>>>>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, topic: &'static str) -> broadcast::Sender<Bytes> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .clone()
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: &'static str, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        // No subscriber is not an error: nobody is listening on this topic yet.
        let _ = self.sender(topic).send(payload);
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, topic: &'static str) -> broadcast::Receiver<Bytes> {
        self.sender(topic).subscribe()
    }

    fn kind(&self) -> &'static str {
        "in_process"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_message_in_order() {
        let bus = LocalBus::new();
        let mut a = bus.subscribe("t");
        let mut b = bus.clone().subscribe("t");
        let mut other = bus.subscribe("u");
        for i in 0..3u8 {
            bus.publish("t", Bytes::from(vec![i])).await.unwrap();
        }
        for rx in [&mut a, &mut b] {
            for i in 0..3u8 {
                assert_eq!(rx.recv().await.unwrap(), Bytes::from(vec![i]));
            }
        }
        assert!(other.try_recv().is_err(), "topics are separate");
    }
}
