//! The bus over Redis pub/sub, for a cluster of hubs (`REDIS_URL`).
//!
//! - Local first: `publish` hands the payload to this node's own subscribers at once (as
//!   [`LocalBus`] does) and queues it for Redis; a publisher task sends the queue in order.
//!   Nothing on this node ever waits for Redis. Each payload goes to Redis prefixed by the
//!   publishing node's id, and a node drops its own echo when Redis brings it back.
//! - One subscriber connection per node holds exactly the topics this node's subscribers
//!   asked for: `subscribe` of a topic new to the node sends `SUBSCRIBE`, `unsubscribe` once no
//!   receiver is left sends `UNSUBSCRIBE`.
//! - Redis pub/sub keeps nothing for a node that is away. When the subscriber connection
//!   drops (Redis restarted, network cut, a failed ping), the node reconnects with backoff,
//!   subscribes again, and then hands every local subscriber a gap marker (an empty payload):
//!   the layers above repair as after a lag (presence asks for snapshots, documents re-read
//!   their log, chat clients repair by seq). While Redis is away, publishes to it are dropped
//!   and counted, and health reports `degraded`.

use super::{Bus, BusError, LocalBus, Subscription, Topic};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use hub_protocol::NodeId;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long connecting to Redis (and each command) may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(3);
/// How often the subscriber connection is pinged, to notice a silent loss.
const PING_EVERY: Duration = Duration::from_secs(1);
/// Payloads queued for Redis before `publish` refuses more.
const QUEUE: usize = 65_536;

/// A command to the subscriber task.
enum Control {
    /// Take the topic; the sender hears when the subscription is in force.
    Subscribe(Topic, Option<tokio::sync::oneshot::Sender<()>>),
    Unsubscribe(Topic),
}

/// What the subscriber task knows about its connection.
#[derive(Default)]
struct Link {
    up: AtomicBool,
    /// Why the connection is down (for health), when it is.
    error: Mutex<Option<String>>,
}

impl Link {
    fn set_up(&self) {
        self.up.store(true, Ordering::Release);
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn set_down(&self, why: String) {
        self.up.store(false, Ordering::Release);
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }
}

pub struct RedisBus {
    local: LocalBus,
    out: mpsc::Sender<(Topic, Bytes)>,
    control: mpsc::UnboundedSender<Control>,
    link: Arc<Link>,
}

impl RedisBus {
    /// Connects to `url` (`redis://` or `rediss://`, a password in the URL is used, never
    /// logged) and starts the publisher and subscriber tasks. Fails when Redis cannot be
    /// reached now.
    pub async fn connect(url: &str, prefix: &str, node: NodeId) -> Result<Arc<RedisBus>, BusError> {
        let prefix: Arc<str> = Arc::from(prefix);
        let unavailable = |e: &dyn std::fmt::Display| BusError::Unavailable(e.to_string());
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        let publisher = tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection())
            .await
            .map_err(|_| unavailable(&"timed out"))?
            .map_err(|e| unavailable(&e))?;
        let pubsub = tokio::time::timeout(TIMEOUT, client.get_async_pubsub())
            .await
            .map_err(|_| unavailable(&"timed out"))?
            .map_err(|e| unavailable(&e))?;
        let local = LocalBus::new();
        let link = Arc::new(Link::default());
        link.set_up();
        let (out, out_rx) = mpsc::channel(QUEUE);
        let (control, control_rx) = mpsc::unbounded_channel();
        tokio::spawn(publish_loop(
            client.clone(),
            publisher,
            prefix.clone(),
            node.clone(),
            out_rx,
            link.clone(),
        ));
        tokio::spawn(subscribe_loop(
            client,
            pubsub,
            prefix,
            node,
            local.clone(),
            control_rx,
            link.clone(),
        ));
        Ok(Arc::new(RedisBus {
            local,
            out,
            control,
            link,
        }))
    }
}

impl Bus for RedisBus {
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        self.local.send(topic, payload.clone());
        let queued = self.out.try_send((topic.clone(), payload));
        Box::pin(async move {
            queued.map_err(|_| BusError::Unavailable("the queue to Redis is full".into()))
        })
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        let rx = self.local.receiver(topic);
        let (done, confirmed) = tokio::sync::oneshot::channel();
        let _ = self
            .control
            .send(Control::Subscribe(topic.clone(), Some(done)));
        Subscription {
            rx,
            // A dropped sender (Redis away, the task gone) also ends the wait.
            ready: Box::pin(async move {
                let _ = confirmed.await;
            }),
        }
    }

    fn unsubscribe(&self, topic: &Topic) {
        self.local.unsubscribe(topic);
        if !self.local.topics().contains(topic) {
            let _ = self.control.send(Control::Unsubscribe(topic.clone()));
        }
    }

    fn topics(&self) -> Vec<Topic> {
        self.local.topics()
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn health(&self) -> BoxFuture<'_, Option<Result<(), String>>> {
        let state = if self.link.up.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(self
                .link
                .error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| "unreachable".into()))
        };
        Box::pin(async move { Some(state) })
    }
}

/// `node` as a length-prefixed header, then `payload`.
fn frame(node: &NodeId, payload: &[u8]) -> Bytes {
    let id = &node.as_str().as_bytes()[..node.as_str().len().min(255)];
    let mut out = BytesMut::with_capacity(1 + id.len() + payload.len());
    out.put_u8(id.len() as u8);
    out.put_slice(id);
    out.put_slice(payload);
    out.freeze()
}

/// The publishing node and the payload of a frame from Redis.
fn unframe(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = data.split_first()?;
    let len = len as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

async fn publish_loop(
    client: redis::Client,
    connection: redis::aio::MultiplexedConnection,
    prefix: Arc<str>,
    node: NodeId,
    mut queue: mpsc::Receiver<(Topic, Bytes)>,
    link: Arc<Link>,
) {
    let mut connection = Some(connection);
    while let Some((topic, payload)) = queue.recv().await {
        if !link.up.load(Ordering::Acquire) {
            // Away: what is published now is lost to the other nodes, which resync when the
            // link returns.
            metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis_down").increment(1);
            connection = None;
            continue;
        }
        if connection.is_none() {
            match tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection()).await {
                Ok(Ok(c)) => connection = Some(c),
                _ => {
                    metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis_down")
                        .increment(1);
                    continue;
                }
            }
        }
        let Some(conn) = connection.as_mut() else {
            continue;
        };
        let sent = tokio::time::timeout(
            TIMEOUT,
            redis::cmd("PUBLISH")
                .arg(format!("{prefix}{topic}"))
                .arg(&frame(&node, &payload)[..])
                .query_async::<i64>(conn),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis").increment(1);
                tracing::warn!(error = %e, "publishing to Redis failed");
                connection = None;
            }
            Err(_) => {
                metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis").increment(1);
                tracing::warn!("publishing to Redis timed out");
                connection = None;
            }
        }
    }
}

async fn subscribe_loop(
    client: redis::Client,
    first: redis::aio::PubSub,
    prefix: Arc<str>,
    node: NodeId,
    local: LocalBus,
    mut control: mpsc::UnboundedReceiver<Control>,
    link: Arc<Link>,
) {
    let mut wanted: BTreeSet<Topic> = BTreeSet::new();
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(100);
    let mut reconnected = false;
    loop {
        let connection = match pubsub.take() {
            Some(c) => Ok(c),
            None => tokio::time::timeout(TIMEOUT, client.get_async_pubsub())
                .await
                .unwrap_or_else(|_| {
                    Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out")))
                }),
        };
        let connection = match connection {
            Ok(c) => c,
            Err(e) => {
                link.set_down(e.to_string());
                // Commands that came meanwhile still shape what to hold once back.
                while let Ok(c) = control.try_recv() {
                    apply(&mut wanted, c);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        let (mut sink, mut stream) = connection.split();
        // Subscribers waiting meanwhile hear back once their topic is really taken.
        let mut confirm = Vec::new();
        while let Ok(c) = control.try_recv() {
            match c {
                Control::Subscribe(t, done) => {
                    wanted.insert(t);
                    confirm.extend(done);
                }
                other => apply(&mut wanted, other),
            }
        }
        let mut failure = None;
        for topic in &wanted {
            if let Err(e) = sink.subscribe(format!("{prefix}{topic}")).await {
                failure = Some(e.to_string());
                break;
            }
        }
        if let Some(why) = failure {
            link.set_down(why);
            tokio::time::sleep(backoff).await;
            continue;
        }
        link.set_up();
        for done in confirm {
            let _ = done.send(());
        }
        backoff = Duration::from_millis(100);
        if reconnected {
            metrics::counter!("hub_bus_reconnects_total").increment(1);
            tracing::warn!("reconnected to Redis; resyncing what may have been missed");
            for topic in local.topics() {
                local.send(&topic, Bytes::new());
            }
        }
        reconnected = true;
        let mut ping = tokio::time::interval(PING_EVERY);
        let why = loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => {
                        let Some((from, payload)) = unframe(message.get_payload_bytes()) else {
                            tracing::warn!("dropping a malformed message from Redis");
                            continue;
                        };
                        if from == node.as_str().as_bytes() {
                            continue;
                        }
                        let name = message.get_channel_name();
                        let Some(name) = name.strip_prefix(&*prefix) else {
                            continue;
                        };
                        let topic = Topic::from_name(name);
                        local.send(&topic, Bytes::copy_from_slice(payload));
                    }
                    None => break "the connection to Redis closed".to_owned(),
                },
                command = control.recv() => {
                    let Some(command) = command else { return };
                    let result = match &command {
                        Control::Subscribe(t, _) if !wanted.contains(t) => sink.subscribe(format!("{prefix}{t}")).await,
                        Control::Unsubscribe(t) if wanted.contains(t) => sink.unsubscribe(format!("{prefix}{t}")).await,
                        _ => Ok(()),
                    };
                    if result.is_err() {
                        // Not confirmed: the topic is still wanted and taken again at reconnect.
                        if let Control::Subscribe(t, _) = command {
                            wanted.insert(t);
                        }
                        break result.err().map(|e| e.to_string()).unwrap_or_default();
                    }
                    apply(&mut wanted, command);
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => break e.to_string(),
                        Err(_) => break "Redis did not answer a ping".to_owned(),
                    }
                }
            }
        };
        tracing::error!(error = %why, "lost the connection to Redis; cross-node traffic paused");
        link.set_down(why);
    }
}

/// Records `command` in `wanted` and tells a subscriber its topic is in force.
fn apply(wanted: &mut BTreeSet<Topic>, command: Control) {
    match command {
        Control::Subscribe(t, done) => {
            wanted.insert(t);
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
        Control::Unsubscribe(t) => {
            wanted.remove(&t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_publishing_node() {
        let f = frame(&NodeId::from("node-a"), b"\x00payload");
        assert_eq!(unframe(&f), Some((&b"node-a"[..], &b"\x00payload"[..])));
        assert_eq!(unframe(b""), None);
        assert_eq!(
            unframe(b"\x09short"),
            None,
            "a header longer than the frame"
        );
    }
}
