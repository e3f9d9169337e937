//! A Redis Cluster: sharded pub/sub over the `redis` crate's cluster connection (RESP3).
//!
//! - `SPUBLISH` goes to the master that owns the channel's hash slot; the connection follows
//!   `MOVED` and `ASK` and refreshes its slot map itself.
//! - `SSUBSCRIBE` is taken on the shard of each channel; messages come back as pushes.
//! - What may lose messages is watched: a dropped connection to a node (its master failed, the
//!   network broke) and a channel that Redis unsubscribed on its own (its slot moved to another
//!   shard). The node then takes those subscriptions again, retrying until the cluster answers
//!   (after a failover, once the replica is promoted), and hands every receiver a gap marker.

use super::link::{Control, Link, Out, TIMEOUT, Tasks, frame, within};
use crate::bus::{BusError, Topic};
use redis::cluster_async::ClusterConnection;
use redis::{PushKind, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often subscriptions that need taking again are retried.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// The cluster connection in use, replaced when it no longer finds the cluster's masters.
#[derive(Clone)]
struct Shared(Arc<std::sync::RwLock<ClusterConnection>>);

impl Shared {
    fn get(&self) -> ClusterConnection {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, connection: ClusterConnection) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = connection;
    }
}

/// Counts a channel's subscribers (`PUBSUB SHARDNUMSUB`, summed over the nodes).
pub(super) struct Counter {
    connection: Shared,
}

impl Counter {
    pub(super) async fn count(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut c = self.connection.get();
        let value: Value = tokio::time::timeout(
            TIMEOUT,
            redis::cmd("PUBSUB")
                .arg("SHARDNUMSUB")
                .arg(channel)
                .query_async(&mut c),
        )
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))??;
        Ok(count_of(&value))
    }
}

/// The sum of the counts in a `NUMSUB`-like reply: a map (RESP3, or nodes' replies combined)
/// or a flat array of channel, count pairs.
fn count_of(value: &Value) -> usize {
    let n = |v: &Value| match v {
        Value::Int(n) => (*n).max(0) as usize,
        _ => 0,
    };
    match value {
        Value::Map(pairs) => pairs.iter().map(|(_, v)| n(v)).sum(),
        Value::Array(items) => items.chunks(2).filter_map(|p| p.get(1)).map(n).sum(),
        _ => 0,
    }
}

pub(super) async fn start(nodes: Vec<String>, tasks: Tasks) -> Result<Counter, BusError> {
    let (pushes, pushed) = mpsc::unbounded_channel();
    let client = redis::cluster::ClusterClientBuilder::new(nodes)
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(pushes)
        .connection_timeout(TIMEOUT)
        .response_timeout(TIMEOUT)
        .retries(3)
        .build()
        .map_err(|e| BusError::Unavailable(e.to_string()))?;
    let mut connection = within(client.get_async_connection()).await?;
    // The control channel is heard from the start: the inbox is ready when this returns.
    within(connection.ssubscribe(Tasks::channel(&tasks.prefix, &Topic::control()))).await?;
    let shared = Shared(Arc::new(std::sync::RwLock::new(connection)));
    let counter = Counter {
        connection: shared.clone(),
    };
    let Tasks {
        prefix,
        node,
        local,
        link,
        out,
        control,
    } = tasks;
    tokio::spawn(publish_loop(
        shared.clone(),
        prefix.clone(),
        node.clone(),
        out,
    ));
    tokio::spawn(
        Subscriber {
            client,
            connection: shared,
            failures: 0,
            prefix,
            node,
            local,
            link,
            wanted: BTreeSet::from([Topic::control()]),
            retake: BTreeSet::new(),
        }
        .run(control, pushed),
    );
    Ok(counter)
}

/// Sends the queue: each channel's messages in order, several channels at once. The queue is
/// split by channel over [`LANES`] lanes that each send one command at a time (the cluster
/// connection does not keep the order of commands in flight together); a flush goes down every
/// lane and is answered once all have reached it.
async fn publish_loop(
    connection: Shared,
    prefix: Arc<str>,
    node: hub_protocol::NodeId,
    mut queue: mpsc::Receiver<Out>,
) {
    let lanes: Vec<mpsc::UnboundedSender<Out>> = (0..LANES)
        .map(|_| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(lane(connection.clone(), prefix.clone(), node.clone(), rx));
            tx
        })
        .collect();
    while let Some(out) = queue.recv().await {
        match out {
            Out::Publish(topic, payload) => {
                let lane = lane_of(&topic);
                let _ = lanes[lane].send(Out::Publish(topic, payload));
            }
            Out::Flush(done) => {
                let mut reached = Vec::with_capacity(LANES);
                for lane in &lanes {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let _ = lane.send(Out::Flush(tx));
                    reached.push(rx);
                }
                tokio::spawn(async move {
                    for r in reached {
                        let _ = r.await;
                    }
                    let _ = done.send(());
                });
            }
        }
    }
}

/// Lanes of the publisher: channels in flight at once.
const LANES: usize = 16;

/// The lane of `topic`: the same for all its messages.
fn lane_of(topic: &Topic) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    topic.hash(&mut h);
    (h.finish() % LANES as u64) as usize
}

async fn lane(
    connection: Shared,
    prefix: Arc<str>,
    node: hub_protocol::NodeId,
    mut queue: mpsc::UnboundedReceiver<Out>,
) {
    while let Some(out) = queue.recv().await {
        match out {
            Out::Publish(topic, payload) => {
                let sent = redis::cmd("SPUBLISH")
                    .arg(Tasks::channel(&prefix, &topic))
                    .arg(&frame(&node, &payload)[..])
                    .query_async::<i64>(&mut connection.get())
                    .await;
                if let Err(e) = sent {
                    metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis")
                        .increment(1);
                    tracing::warn!(error = %e, "publishing to the Redis Cluster failed");
                }
            }
            Out::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

struct Subscriber {
    client: redis::cluster::ClusterClient,
    connection: Shared,
    /// Failed attempts to take subscriptions again since the connection was made.
    failures: u32,
    prefix: Arc<str>,
    node: hub_protocol::NodeId,
    local: crate::bus::LocalBus,
    link: Arc<Link>,
    /// What this node holds.
    wanted: BTreeSet<Topic>,
    /// What may have stopped hearing and must be taken again.
    retake: BTreeSet<Topic>,
}

impl Subscriber {
    async fn run(
        mut self,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut pushed: mpsc::UnboundedReceiver<redis::PushInfo>,
    ) {
        let mut retry = tokio::time::interval(RETRY_EVERY);
        loop {
            tokio::select! {
                command = control.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => return,
                },
                push = pushed.recv() => match push {
                    Some(push) => self.push(push),
                    None => return,
                },
                _ = retry.tick(), if !self.retake.is_empty() => self.take_again().await,
            }
        }
    }

    async fn command(&mut self, command: Control) {
        match command {
            Control::Subscribe(topic, done) => {
                if self.wanted.insert(topic.clone()) {
                    let channel = Tasks::channel(&self.prefix, &topic);
                    if let Err(e) = self.connection.get().ssubscribe(channel).await {
                        tracing::warn!(error = %e, %topic, "cannot subscribe; retrying");
                        self.retake.insert(topic);
                    }
                }
                // Told at once even when Redis is away: the gap marker follows its return.
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Control::Unsubscribe(topic) => {
                if !topic.is_control() && self.wanted.remove(&topic) {
                    self.retake.remove(&topic);
                    let channel = Tasks::channel(&self.prefix, &topic);
                    if let Err(e) = self.connection.get().sunsubscribe(channel).await {
                        tracing::debug!(error = %e, %topic, "cannot unsubscribe");
                    }
                }
            }
        }
    }

    fn push(&mut self, push: redis::PushInfo) {
        match push.kind {
            PushKind::SMessage | PushKind::Message => {
                let (Some(channel), Some(data)) = (push.data.first(), push.data.get(1)) else {
                    return;
                };
                let (Some(channel), Some(data)) = (bytes_of(channel), bytes_of(data)) else {
                    return;
                };
                let channel = String::from_utf8_lossy(channel);
                Tasks::arrived(&self.prefix, &self.node, &self.local, &channel, data);
            }
            PushKind::Disconnection => {
                // A node's connection dropped: whatever it carried may be lost. Every
                // subscription is taken again (the cluster connection routes each to the
                // master that owns its slot now).
                if self.retake.is_empty() {
                    tracing::warn!(
                        "lost a connection to the Redis Cluster; taking subscriptions again"
                    );
                }
                self.link
                    .set_down("a Redis Cluster node connection dropped".into());
                self.retake.extend(self.wanted.iter().cloned());
            }
            PushKind::SUnsubscribe => {
                // Unasked for (this node still wants the channel): its slot moved.
                let Some(channel) = push.data.first().and_then(bytes_of) else {
                    return;
                };
                let channel = String::from_utf8_lossy(channel);
                if let Some(name) = channel.strip_prefix(&*self.prefix) {
                    let topic = Topic::from_name(name);
                    if self.wanted.contains(&topic) {
                        tracing::warn!(%topic, "Redis dropped a subscription (slot moved); taking it again");
                        self.link.set_down("a slot moved".into());
                        self.retake.insert(topic);
                    }
                }
            }
            _ => {}
        }
    }

    /// Takes again what may have stopped hearing; once all is taken, the receivers hear of
    /// the gap. The cluster connection retries a master that does not answer but does not
    /// look for its successor: after [`REBUILD_AFTER`] failed rounds, a new connection learns
    /// the cluster's layout again from the nodes that answer, and everything is taken again on
    /// it.
    async fn take_again(&mut self) {
        if self.failures >= REBUILD_AFTER {
            self.failures = 0;
            match tokio::time::timeout(TIMEOUT, self.client.get_async_connection()).await {
                Ok(Ok(fresh)) => {
                    tracing::warn!("the Redis Cluster changed; connected to it again");
                    self.connection.set(fresh);
                    self.retake.extend(self.wanted.iter().cloned());
                }
                Ok(Err(e)) => {
                    self.link.set_down(e.to_string());
                    return;
                }
                Err(_) => {
                    self.link
                        .set_down("the Redis Cluster did not answer".into());
                    return;
                }
            }
        }
        let pending: Vec<Topic> = self.retake.iter().cloned().collect();
        let mut connection = self.connection.get();
        for topic in pending {
            let channel = Tasks::channel(&self.prefix, &topic);
            let why = match tokio::time::timeout(TIMEOUT, connection.ssubscribe(channel)).await {
                Ok(Ok(())) => {
                    self.retake.remove(&topic);
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "the Redis Cluster did not answer".to_owned(),
            };
            self.failures += 1;
            self.link.set_down(why);
            return;
        }
        self.failures = 0;
        self.link.set_up();
        metrics::counter!("hub_bus_reconnects_total").increment(1);
        tracing::warn!(
            "Redis Cluster subscriptions taken again; resyncing what may have been missed"
        );
        self.local.gap();
    }
}

/// Failed rounds of taking subscriptions again before the connection is made anew.
const REBUILD_AFTER: u32 = 2;

fn bytes_of(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_counts_are_summed_over_every_reply_shape() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let map = Value::Map(vec![(bulk("hub:room:a"), Value::Int(3))]);
        assert_eq!(count_of(&map), 3);
        let flat = Value::Array(vec![bulk("hub:room:a"), Value::Int(2)]);
        assert_eq!(count_of(&flat), 2);
        assert_eq!(count_of(&Value::Array(vec![])), 0);
        assert_eq!(count_of(&Value::Nil), 0);
        let negative = Value::Array(vec![bulk("x"), Value::Int(-1)]);
        assert_eq!(count_of(&negative), 0);
    }
}
