//! The bus over Redis pub/sub, for a cluster of hubs (`REDIS_URL`). Two deployments:
//!
//! - **One Redis** (`redis://` or `rediss://`): `PUBLISH`/`SUBSCRIBE` on one subscriber
//!   connection per node ([`single`]).
//! - **A Redis Cluster** (`redis+cluster://host:port,host:port` or `rediss+cluster://…`):
//!   sharded pub/sub, `SPUBLISH`/`SSUBSCRIBE`, so each channel lives on the shard that owns its
//!   hash slot and a message crosses one shard, not the whole cluster ([`cluster`]). Slot moves
//!   and failovers are followed; subscriptions are taken again where their slot now lives.
//!
//! What both share:
//! - Local first: `publish` hands the payload to this node's own receivers at once (if it hears
//!   the topic) and queues it for Redis; a publisher task sends the queue in order. Nothing on
//!   this node ever waits for Redis. Each payload goes to Redis prefixed by the publishing
//!   node's id, and a node drops its own echo when Redis brings it back.
//! - A node subscribes to exactly the channels it needs: the control channel for its whole
//!   life, a room's channel while it listens to the room, a document's while it holds it.
//! - Redis pub/sub keeps nothing for a node that is away. When a subscription may have missed
//!   messages (a connection dropped, a master failed over, a slot moved), the node takes its
//!   subscriptions again and then hands every local receiver a gap marker (an empty payload):
//!   the layers above repair as after a lag (presence asks for snapshots, documents re-read
//!   their log, chat clients repair by seq). While Redis is away, publishes to it are dropped
//!   and counted, and health reports `degraded`.

mod cluster;
mod link;
mod single;

use super::{Bus, BusError, LocalBus, Subscription, Topic};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use hub_protocol::NodeId;
use link::{Control, Link, Out, Tasks};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Payloads queued for Redis before `publish` refuses more.
const QUEUE: usize = 65_536;

/// How a node asks Redis how many nodes hear a channel.
enum Counter {
    Single(single::Counter),
    Cluster(cluster::Counter),
}

pub struct RedisBus {
    local: LocalBus,
    out: mpsc::Sender<Out>,
    control: mpsc::UnboundedSender<Control>,
    link: Arc<Link>,
    prefix: Arc<str>,
    counter: Counter,
    kind: &'static str,
}

/// Where the nodes of a Redis Cluster are, from `redis+cluster://[user:pass@]host:port,host:port`
/// (`rediss+cluster://` for TLS): one `redis://` URL per node, speaking RESP3 (which sharded
/// pub/sub over a cluster connection needs). `None` if `url` does not name a cluster.
pub fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "redis+cluster" => "redis",
        "rediss+cluster" => "rediss",
        _ => return None,
    };
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((auth, rest)) => (format!("{auth}@"), rest),
        None => (String::new(), rest),
    };
    let hosts = rest.split(['/', '?']).next().unwrap_or_default();
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("{scheme}://{auth}{h}/?protocol=resp3"))
        .collect();
    (!nodes.is_empty()).then_some(nodes)
}

impl RedisBus {
    /// Connects to `url` and starts the publisher and subscriber tasks. `url` names one Redis
    /// (`redis://`, `rediss://`) or a cluster (`redis+cluster://host:port,…`); a password in it
    /// is used, never logged. Fails when Redis cannot be reached now.
    pub async fn connect(url: &str, prefix: &str, node: NodeId) -> Result<Arc<RedisBus>, BusError> {
        let prefix: Arc<str> = Arc::from(prefix);
        let local = LocalBus::new();
        let link = Arc::new(Link::default());
        let (out, out_rx) = mpsc::channel(QUEUE);
        let (control, control_rx) = mpsc::unbounded_channel();
        let tasks = Tasks {
            prefix: prefix.clone(),
            node,
            local: local.clone(),
            link: link.clone(),
            out: out_rx,
            control: control_rx,
        };
        let (counter, kind) = match cluster_nodes(url) {
            Some(nodes) => (
                Counter::Cluster(cluster::start(nodes, tasks).await?),
                "redis_cluster",
            ),
            None => (Counter::Single(single::start(url, tasks).await?), "redis"),
        };
        link.set_up();
        Ok(Arc::new(RedisBus {
            local,
            out,
            control,
            link,
            prefix,
            counter,
            kind,
        }))
    }

    fn take(&self, topic: &Topic) -> BoxFuture<'static, ()> {
        let (done, confirmed) = oneshot::channel();
        let _ = self
            .control
            .send(Control::Subscribe(topic.clone(), Some(done)));
        // A dropped sender (the task gone) also ends the wait.
        Box::pin(async move {
            let _ = confirmed.await;
        })
    }
}

impl Bus for RedisBus {
    fn publish(&self, topic: &Topic, payload: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        self.local.send(topic, payload.clone());
        let queued = self.out.try_send(Out::Publish(topic.clone(), payload));
        Box::pin(async move {
            queued.map_err(|_| BusError::Unavailable("the queue to Redis is full".into()))
        })
    }

    fn inbox(&self) -> Subscription {
        // The control channel was taken at connect.
        Subscription {
            rx: self.local.inbox().rx,
            ready: Box::pin(async {}),
        }
    }

    fn listen(&self, topic: &Topic) -> BoxFuture<'static, ()> {
        if self.local.set_listening(topic, true) {
            self.take(topic)
        } else {
            Box::pin(async {})
        }
    }

    fn unlisten(&self, topic: &Topic) {
        if self.local.set_listening(topic, false) {
            let _ = self.control.send(Control::Unsubscribe(topic.clone()));
        }
    }

    fn listeners(&self, topic: &Topic) -> BoxFuture<'_, Option<usize>> {
        let channel = Tasks::channel(&self.prefix, topic);
        Box::pin(async move {
            let counted = match &self.counter {
                Counter::Single(c) => c.count(&channel).await,
                Counter::Cluster(c) => c.count(&channel).await,
            };
            match counted {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot count a channel's subscribers");
                    None
                }
            }
        })
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        let rx = self.local.receiver(topic);
        Subscription {
            rx,
            ready: self.take(topic),
        }
    }

    fn unsubscribe(&self, topic: &Topic) {
        self.local.unsubscribe(topic);
        if !self.local.hears(topic) && !self.local.held().contains(topic) {
            let _ = self.control.send(Control::Unsubscribe(topic.clone()));
        }
    }

    fn topics(&self) -> Vec<Topic> {
        self.local.held()
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (done, sent) = oneshot::channel();
            if self.out.send(Out::Flush(done)).await.is_ok() {
                let _ = tokio::time::timeout(link::TIMEOUT, sent).await;
            }
        })
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn health(&self) -> BoxFuture<'_, Option<Result<(), String>>> {
        let state = self.link.state();
        Box::pin(async move { Some(state) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_names_every_node() {
        let table: [(&str, Option<Vec<&str>>); 6] = [
            (
                "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
                Some(vec![
                    "redis://10.0.0.1:7000/?protocol=resp3",
                    "redis://10.0.0.2:7001/?protocol=resp3",
                ]),
            ),
            (
                "rediss+cluster://user:s3cret@a.example:6380, b.example:6380",
                Some(vec![
                    "rediss://user:s3cret@a.example:6380/?protocol=resp3",
                    "rediss://user:s3cret@b.example:6380/?protocol=resp3",
                ]),
            ),
            (
                "redis+cluster://h:7000/?protocol=resp3",
                Some(vec!["redis://h:7000/?protocol=resp3"]),
            ),
            ("redis://127.0.0.1:6379", None),
            ("redis+cluster://", None),
            ("nonsense", None),
        ];
        for (url, want) in table {
            let want = want.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
            assert_eq!(cluster_nodes(url), want, "{url}");
        }
    }
}
