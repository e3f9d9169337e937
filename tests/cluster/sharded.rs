//! A Redis Cluster of the test's own (three masters, three replicas): the bus's contract over
//! sharded pub/sub, a room's channel on the shard of its slot only, and a master killed under
//! the nodes' feet (its replica takes over; the nodes take their subscriptions again and hear a
//! gap marker, then traffic flows again).

use crate::common;
use crate::redis_bus::{
    every_node_hears_control_once_and_its_own_at_once, rooms_reach_their_listeners_only,
};

use bytes::Bytes;
use common::redis::{RedisCluster, prefix};
use hub::bus::{Bus, RedisBus, Topic};
use hub_protocol::NodeId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

async fn node(url: &str, prefix: &str, name: &str) -> Arc<RedisBus> {
    RedisBus::connect(url, prefix, NodeId::from(name))
        .await
        .expect("the Redis Cluster is reachable")
}

async fn next(rx: &mut Receiver<Bytes>, wait_ms: u64) -> Option<Bytes> {
    tokio::time::timeout(Duration::from_millis(wait_ms), rx.recv())
        .await
        .ok()
        .map(|r| r.expect("receiver open"))
}

/// Subscribers of a sharded channel on the node at `port` (0 on a node that does not own it).
fn shard_subscribers(port: u16, channel: &str) -> i64 {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "pubsub", "shardnumsub", channel])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_contract_holds_over_a_redis_cluster() {
    let cluster = RedisCluster::start().await;
    let url = cluster.url();
    let a = node(&url, &prefix(), "a").await;
    assert_eq!(a.kind(), "redis_cluster");
    every_node_hears_control_once_and_its_own_at_once(&url).await;
    rooms_reach_their_listeners_only(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_lives_on_its_shard_and_survives_its_master_failing_over() {
    let mut cluster = RedisCluster::start().await;
    let (url, prefix) = (cluster.url(), prefix());
    let (a, b) = (
        node(&url, &prefix, "a").await,
        node(&url, &prefix, "b").await,
    );
    let (mut on_a, mut on_b) = (a.inbox().rx, b.inbox().rx);
    let room = Topic::room(&"venture:failover".into());
    let channel = format!("{prefix}{room}");
    a.listen(&room).await;
    b.listen(&room).await;
    // The channel is on the master of its slot, and on no other.
    let owner = cluster.master_of(&channel);
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    for m in &masters {
        let want = if *m == owner { 2 } else { 0 };
        assert_eq!(shard_subscribers(*m, &channel), want, "master {m}");
    }
    b.publish(&room, Bytes::from_static(b"before"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut on_a, 5_000).await,
        Some(Bytes::from_static(b"before"))
    );
    assert_eq!(
        next(&mut on_b, 5_000).await,
        Some(Bytes::from_static(b"before"))
    );

    // The owner dies; its replica is promoted after the node timeout.
    cluster.kill(owner);
    // Each node takes its subscriptions again and says it may have missed messages.
    for rx in [&mut on_a, &mut on_b] {
        loop {
            match next(rx, 30_000).await {
                Some(m) if m.is_empty() => break,
                Some(_) => continue,
                None => panic!("no gap marker after the failover"),
            }
        }
    }
    cluster.wait_ok().await;
    let promoted = cluster.master_of(&channel);
    assert_ne!(promoted, owner, "the replica took the slot");
    assert_eq!(
        shard_subscribers(promoted, &channel),
        2,
        "both nodes hear it there"
    );
    // Traffic flows again, in order.
    for i in 0..20u8 {
        b.publish(&room, Bytes::from(vec![b'x', i])).await.unwrap();
    }
    for i in 0..20u8 {
        assert_eq!(
            next(&mut on_a, 10_000).await,
            Some(Bytes::from(vec![b'x', i]))
        );
    }
    assert_eq!(a.health().await, Some(Ok(())));
    assert_eq!(b.health().await, Some(Ok(())));
}
