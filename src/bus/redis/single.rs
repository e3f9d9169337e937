//! One Redis: `PUBLISH` on a multiplexed connection, `SUBSCRIBE` on one subscriber connection
//! per node, pinged every second so that a silent loss is noticed.

use super::link::{Control, Link, Out, TIMEOUT, Tasks, frame, within};
use crate::bus::{BusError, Topic};
use futures_util::StreamExt;
use std::collections::BTreeSet;
use std::time::Duration;

/// How often the subscriber connection is pinged, to notice a silent loss.
const PING_EVERY: Duration = Duration::from_secs(1);

/// Counts a channel's subscribers (`PUBSUB NUMSUB`).
pub(super) struct Counter {
    connection: redis::aio::MultiplexedConnection,
}

impl Counter {
    pub(super) async fn count(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut c = self.connection.clone();
        let counted = tokio::time::timeout(
            TIMEOUT,
            redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(channel)
                .query_async::<Vec<(String, i64)>>(&mut c),
        )
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))??;
        Ok(counted.into_iter().map(|(_, n)| n.max(0) as usize).sum())
    }
}

pub(super) async fn start(url: &str, tasks: Tasks) -> Result<Counter, BusError> {
    let client = redis::Client::open(url).map_err(|e| BusError::Unavailable(e.to_string()))?;
    let publisher = within(client.get_multiplexed_async_connection()).await?;
    let mut pubsub = within(client.get_async_pubsub()).await?;
    // The control channel is heard from the start: the inbox is ready when this returns.
    within(pubsub.subscribe(Tasks::channel(&tasks.prefix, &Topic::control()))).await?;
    let counter = Counter {
        connection: publisher.clone(),
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
        client.clone(),
        publisher,
        prefix.clone(),
        node.clone(),
        out,
        link.clone(),
    ));
    tokio::spawn(subscribe_loop(
        client, pubsub, prefix, node, local, control, link,
    ));
    Ok(counter)
}

async fn publish_loop(
    client: redis::Client,
    connection: redis::aio::MultiplexedConnection,
    prefix: std::sync::Arc<str>,
    node: hub_protocol::NodeId,
    mut queue: tokio::sync::mpsc::Receiver<Out>,
    link: std::sync::Arc<Link>,
) {
    let mut connection = Some(connection);
    while let Some(out) = queue.recv().await {
        let (topic, payload) = match out {
            Out::Publish(topic, payload) => (topic, payload),
            Out::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        if !link.is_up() {
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
                .arg(Tasks::channel(&prefix, &topic))
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
    prefix: std::sync::Arc<str>,
    node: hub_protocol::NodeId,
    local: crate::bus::LocalBus,
    mut control: tokio::sync::mpsc::UnboundedReceiver<Control>,
    link: std::sync::Arc<Link>,
) {
    let mut wanted: BTreeSet<Topic> = BTreeSet::from([Topic::control()]);
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(100);
    // The first connection already holds the control channel.
    let mut fresh = true;
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
            if fresh && topic.is_control() {
                continue;
            }
            if let Err(e) = sink.subscribe(Tasks::channel(&prefix, topic)).await {
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
        if !fresh {
            metrics::counter!("hub_bus_reconnects_total").increment(1);
            tracing::warn!("reconnected to Redis; resyncing what may have been missed");
            local.gap();
        }
        fresh = false;
        let mut ping = tokio::time::interval(PING_EVERY);
        let why = loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => Tasks::arrived(
                        &prefix,
                        &node,
                        &local,
                        message.get_channel_name(),
                        message.get_payload_bytes(),
                    ),
                    None => break "the connection to Redis closed".to_owned(),
                },
                command = control.recv() => {
                    let Some(command) = command else { return };
                    let result = match &command {
                        Control::Subscribe(t, _) if !wanted.contains(t) => {
                            sink.subscribe(Tasks::channel(&prefix, t)).await
                        }
                        Control::Unsubscribe(t) if wanted.contains(t) => {
                            sink.unsubscribe(Tasks::channel(&prefix, t)).await
                        }
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

/// Records `command` in `wanted` and tells a subscriber its topic is in force. The control
/// channel is never given up.
fn apply(wanted: &mut BTreeSet<Topic>, command: Control) {
    match command {
        Control::Subscribe(t, done) => {
            wanted.insert(t);
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
        Control::Unsubscribe(t) => {
            if !t.is_control() {
                wanted.remove(&t);
            }
        }
    }
}
