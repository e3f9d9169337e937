//! A Redis Cluster: sharded pub/sub over the `redis` crate's cluster connection (RESP3).
//!
//! - `SPUBLISH` goes to the master that owns the channel's hash slot; the connection follows
//!   `MOVED` and `ASK` and refreshes its slot map itself.
//! - `SSUBSCRIBE` is taken on the shard of each channel; messages come back as pushes.
//! - What may lose messages is watched: a dropped connection to a node (its master failed, the
//!   network broke) and a channel that Redis unsubscribed on its own (its slot moved to another
//!   shard). The node then takes those subscriptions again, retrying until the cluster answers
//!   (after a failover, once the replica is promoted), and hands every receiver a gap marker.

use super::link::{Control, Link, TIMEOUT, Tasks, frame, within};
use crate::bus::{BusError, Topic};
use futures_util::StreamExt;
use redis::cluster_async::ClusterConnection;
use redis::{PushKind, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often subscriptions that need taking again are retried.
const RETRY_EVERY: Duration = Duration::from_millis(250);
/// `SPUBLISH`es in flight at once (sent in order on the shard's connection).
const IN_FLIGHT: usize = 64;

/// Counts a channel's subscribers (`PUBSUB SHARDNUMSUB`, summed over the nodes).
pub(super) struct Counter {
    connection: ClusterConnection,
}

impl Counter {
    pub(super) async fn count(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut c = self.connection.clone();
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
    let counter = Counter {
        connection: connection.clone(),
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
        connection.clone(),
        prefix.clone(),
        node.clone(),
        out,
    ));
    tokio::spawn(
        Subscriber {
            connection,
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

/// Sends the queue in order, a few commands in flight at once: the cluster connection sends
/// them to each shard in the order they were issued.
async fn publish_loop(
    connection: ClusterConnection,
    prefix: Arc<str>,
    node: hub_protocol::NodeId,
    mut queue: mpsc::Receiver<(Topic, bytes::Bytes)>,
) {
    let queued = futures_util::stream::poll_fn(move |cx| queue.poll_recv(cx));
    let sends = queued.map(|(topic, payload)| {
        let mut c = connection.clone();
        let channel = Tasks::channel(&prefix, &topic);
        let framed = frame(&node, &payload);
        async move {
            redis::cmd("SPUBLISH")
                .arg(channel)
                .arg(&framed[..])
                .query_async::<i64>(&mut c)
                .await
        }
    });
    let mut sends = sends.buffered(IN_FLIGHT);
    while let Some(sent) = sends.next().await {
        if let Err(e) = sent {
            metrics::counter!("hub_bus_publish_errors_total", "kind" => "redis").increment(1);
            tracing::warn!(error = %e, "publishing to the Redis Cluster failed");
        }
    }
}

struct Subscriber {
    connection: ClusterConnection,
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
                    if let Err(e) = self.connection.ssubscribe(channel).await {
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
                    if let Err(e) = self.connection.sunsubscribe(channel).await {
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
    /// the gap.
    async fn take_again(&mut self) {
        let pending: Vec<Topic> = self.retake.iter().cloned().collect();
        for topic in pending {
            let channel = Tasks::channel(&self.prefix, &topic);
            match tokio::time::timeout(TIMEOUT, self.connection.ssubscribe(channel)).await {
                Ok(Ok(())) => {
                    self.retake.remove(&topic);
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
        self.link.set_up();
        metrics::counter!("hub_bus_reconnects_total").increment(1);
        tracing::warn!(
            "Redis Cluster subscriptions taken again; resyncing what may have been missed"
        );
        self.local.gap();
    }
}

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
