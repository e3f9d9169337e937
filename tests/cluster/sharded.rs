//! A Redis Cluster of the test's own (three masters, three replicas): the bus's contract over
//! sharded pub/sub, a room's channel on the shard of its slot only, and a master killed under
//! the nodes' feet (its replica takes over; the nodes take their subscriptions again and hear a
//! gap marker, then traffic flows again). Then three hub processes on it: everything crosses
//! nodes, a master fails over in the middle of a chat and nothing acknowledged is lost, and a
//! rolling restart of all three hubs under chat load loses nothing and leaves no ghost.

use crate::cluster::{Cluster, stock_clients_share_everything};
use crate::common;
use crate::redis_bus::{
    every_node_hears_control_once_and_its_own_at_once, rooms_reach_their_listeners_only,
};
use common::{Backend, SECRET, TestDb, TestHub};
use hub_protocol::AccountRole;
use serde_json::json;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hubs_share_everything_over_a_redis_cluster_and_a_failover_loses_nothing() {
    let mut redis = RedisCluster::start().await;
    let cluster = Cluster::start(3, &redis.url()).await;
    // Chat, presence, typing and documents between stock clients on the three nodes.
    stock_clients_share_everything(&cluster).await;

    // A wallet push and its notification reach the user's socket on another node.
    let mut ivy = cluster.sio(2, "ivy").await;
    let system = cluster
        .hub(0)
        .token_with("platform", None, AccountRole::System);
    let (status, body) = cluster
        .hub(0)
        .post(
            "/api/v1/events/task/accepted",
            &system,
            json!({"task_id": "t1", "user_id": "ivy", "tier": "B", "quality": 1.0, "reviewer_trust": 100.0}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        ivy.event("wallet:updated").await,
        json!({"buz_balance": 80, "pending_lock": 0, "available": 80})
    );
    let note = ivy
        .event_where("notification", |n| n["kind"] == "buz_credited")
        .await;
    assert_eq!(note["data"]["buz_balance"], 80);

    // A chat across nodes while the master that owns the room's channel fails over.
    let room = cluster.room.clone();
    let mut alice = cluster.sio(0, "alice").await;
    alice.join(&room).await;
    let mut bob = cluster.sio(1, "bob").await;
    let joined = bob.join(&room).await;
    let start = joined["last_seq"].as_i64().unwrap();
    let channel = format!("{}room:{room}", cluster.prefix);
    let owner = redis.master_of(&channel);
    let mut acked = Vec::new();
    for i in 0..150 {
        if i == 40 {
            redis.kill(owner);
        }
        let m = alice
            .say(&room, &format!("f{i}"), &format!("during {i}"))
            .await;
        acked.push(m["id"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    redis.wait_ok().await;
    // What bob heard live, then what his client asks for from its last contiguous seq.
    let live = bob.received("chat:message").await;
    let mut seen: Vec<(i64, String)> = live
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut contiguous = start;
    for (seq, _) in &seen {
        if *seq == contiguous + 1 {
            contiguous = *seq;
        }
    }
    let rejoined = bob
        .ok("room:join", json!({"room": room, "since": contiguous}))
        .await;
    assert_eq!(rejoined["recovered"], true, "{rejoined}");
    for m in rejoined["missed"].as_array().unwrap() {
        seen.push((
            m["seq"].as_i64().unwrap(),
            m["id"].as_str().unwrap().to_owned(),
        ));
    }
    seen.sort();
    seen.dedup();
    let ids: Vec<String> = seen.into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids, acked,
        "bob has every acknowledged message once, in order"
    );
    // And the room's traffic flows live again through the promoted replica.
    let after = alice.say(&room, "after", "after the failover").await;
    let heard = bob
        .event_where("chat:message", |m| m["id"] == after["id"])
        .await;
    assert_eq!(heard["body"], "after the failover");
    assert_ne!(redis.master_of(&channel), owner);
    cluster.db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_three_hubs_under_chat_load_loses_nothing_and_leaves_no_ghost() {
    let redis = RedisCluster::start().await;
    let db = TestDb::new(Backend::Postgres).await;
    let url = db.url.clone();
    // The venture and its members, made by a hub that then stops.
    let setup = TestHub::start_on(db.shared(), |_| {}).await;
    let venture = setup.venture("alice", "Acme").await;
    for user in ["bob", "carol", "dave"] {
        setup.add_member(&venture, "alice", user, "member").await;
    }
    let mut env = vec![
        ("HUB_BIN", env!("CARGO_BIN_EXE_hub").to_owned()),
        ("DATABASE_URL", url),
        ("REDIS_URL", redis.url()),
        ("HUB_REDIS_PREFIX", prefix()),
        ("JWT_SECRET", SECRET.to_owned()),
        ("ROOM", format!("venture:{venture}")),
    ];
    for (key, user) in [
        ("TOKEN_ALICE", "alice"),
        ("TOKEN_BOB", "bob"),
        ("TOKEN_CAROL", "carol"),
        ("TOKEN_DAVE", "dave"),
    ] {
        env.push((key, setup.token(user)));
    }
    setup.stop().await.unwrap();
    let out = common::node::run_node("rolling-restart.mjs", &env).await;
    assert!(out.contains("rolling restart ok"), "{out}");
    println!("{}", out.trim());
    db.drop_schema().await;
}
