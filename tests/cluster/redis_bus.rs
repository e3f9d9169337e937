//! The Redis bus against a real Redis: the same contract as the in-process bus (every node
//! hears every message once, its own without waiting for Redis), topics taken and released at
//! run time, and what happens when Redis goes away and comes back (on a private Redis server
//! this test starts and stops).

use crate::common;

use bytes::Bytes;
use common::redis::{PrivateRedis, free_port, prefix, redis_url};
use hub::bus::{Bus, RedisBus, Topic};
use hub_protocol::{DocId, NodeId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

async fn node(url: &str, prefix: &str, name: &str) -> Arc<RedisBus> {
    RedisBus::connect(url, prefix, NodeId::from(name))
        .await
        .expect("Redis is reachable")
}

/// The next message, or `None` after a generous wait (for "nothing arrives").
async fn next(rx: &mut Receiver<Bytes>, wait_ms: u64) -> Option<Bytes> {
    tokio::time::timeout(Duration::from_millis(wait_ms), rx.recv())
        .await
        .ok()
        .map(|r| r.expect("receiver open"))
}

/// Subscribers on the channel, as Redis counts them.
async fn subscribers(url: &str, channel: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async::<Vec<(String, i64)>>(&mut c)
        .await
        .unwrap()
        .pop()
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_hears_each_message_once_and_its_own_at_once() {
    every_node_hears_control_once_and_its_own_at_once(&redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hears_a_room_only_while_it_listens() {
    rooms_reach_their_listeners_only(&redis_url()).await;
}

/// The control topic reaches every node once, the publisher's own copy at once.
pub(crate) async fn every_node_hears_control_once_and_its_own_at_once(url: &str) {
    let prefix = prefix();
    let (a, b) = (node(url, &prefix, "a").await, node(url, &prefix, "b").await);
    let topic = Topic::control();
    let mut on_a = a.inbox().in_force().await;
    let mut on_b = b.inbox().in_force().await;
    // Past a few of the subscriber's pings (once a second) on subscribed connections.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(a.health().await, Some(Ok(())));
    for i in 0..50u8 {
        b.publish(&topic, Bytes::from(vec![1, i])).await.unwrap();
    }
    for i in 0..50u8 {
        assert_eq!(next(&mut on_a, 5_000).await, Some(Bytes::from(vec![1, i])));
        assert_eq!(next(&mut on_b, 5_000).await, Some(Bytes::from(vec![1, i])));
    }
    assert_eq!(next(&mut on_b, 300).await, None, "b's own echo is dropped");
    assert_eq!(next(&mut on_a, 300).await, None);
    assert_eq!(a.health().await, Some(Ok(())));
}

/// A room's messages reach the nodes that listen to it, in order, and no other; the bus
/// counts its listeners.
pub(crate) async fn rooms_reach_their_listeners_only(url: &str) {
    let prefix = prefix();
    let (a, b, c) = (
        node(url, &prefix, "a").await,
        node(url, &prefix, "b").await,
        node(url, &prefix, "c").await,
    );
    let (mut on_a, mut on_b, mut on_c) = (a.inbox().rx, b.inbox().rx, c.inbox().rx);
    let (r1, r2) = (
        Topic::room(&"venture:1".into()),
        Topic::room(&"venture:2".into()),
    );
    a.listen(&r1).await;
    b.listen(&r1).await;
    b.listen(&r2).await;
    assert_eq!(a.listeners(&r1).await, Some(2));
    assert_eq!(c.listeners(&r2).await, Some(1));
    assert_eq!(
        c.listeners(&Topic::room(&"venture:none".into())).await,
        Some(0)
    );
    for i in 0..20u8 {
        c.publish(&r1, Bytes::from(vec![b'1', i])).await.unwrap();
        c.publish(&r2, Bytes::from(vec![b'2', i])).await.unwrap();
    }
    for i in 0..20u8 {
        assert_eq!(
            next(&mut on_a, 5_000).await,
            Some(Bytes::from(vec![b'1', i]))
        );
    }
    let (mut ones, mut twos) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let m = next(&mut on_b, 5_000).await.expect("b hears both rooms");
        if m[0] == b'1' {
            ones.push(m[1])
        } else {
            twos.push(m[1])
        }
    }
    let want: Vec<u8> = (0..20).collect();
    assert_eq!((ones, twos), (want.clone(), want), "in order per room");
    assert_eq!(next(&mut on_a, 300).await, None, "a does not hear room 2");
    assert_eq!(next(&mut on_c, 300).await, None, "c listens to neither");
    b.unlisten(&r1);
    let mut released = false;
    for _ in 0..100 {
        if a.listeners(&r1).await == Some(1) {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(released, "b gave room 1 up");
    c.publish(&r1, Bytes::from_static(b"1x")).await.unwrap();
    assert_eq!(
        next(&mut on_a, 5_000).await,
        Some(Bytes::from_static(b"1x"))
    );
    assert_eq!(next(&mut on_b, 300).await, None);
    assert_eq!(b.topics(), vec![r2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hears_a_document_only_while_it_holds_its_topic() {
    let (url, prefix) = (redis_url(), prefix());
    let (a, b) = (
        node(&url, &prefix, "a").await,
        node(&url, &prefix, "b").await,
    );
    let doc = Topic::doc(&DocId::from("d1"));
    let channel = format!("{prefix}doc:d1");
    assert_eq!(subscribers(&url, &channel).await, 0);
    let mut on_a = a.subscribe(&doc).in_force().await;
    assert_eq!(subscribers(&url, &channel).await, 1);
    b.publish(&doc, Bytes::from_static(b"Yhello"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut on_a, 5_000).await,
        Some(Bytes::from_static(b"Yhello"))
    );
    drop(on_a);
    a.unsubscribe(&doc);
    let mut released = false;
    for _ in 0..100 {
        if subscribers(&url, &channel).await == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(released, "a released the channel");
    assert!(a.topics().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_fails_at_once() {
    let err = RedisBus::connect("redis://127.0.0.1:1", "hub:", NodeId::from("a"))
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(!err.to_string().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_keeps_local_traffic_and_its_return_brings_a_gap_marker() {
    let mut redis = PrivateRedis::start(free_port()).await;
    let (url, prefix) = (redis.url(), prefix());
    let (a, b) = (
        node(&url, &prefix, "a").await,
        node(&url, &prefix, "b").await,
    );
    let topic = Topic::control();
    let mut on_a = a.inbox().in_force().await;
    let mut on_b = b.inbox().in_force().await;

    redis.stop();
    let mut down = false;
    for _ in 0..300 {
        if matches!(a.health().await, Some(Err(_))) {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(down, "health says Redis is away");
    // Local traffic still flows, at once.
    a.publish(&topic, Bytes::from_static(b"Flocal"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut on_a, 1_000).await,
        Some(Bytes::from_static(b"Flocal"))
    );
    assert_eq!(next(&mut on_b, 300).await, None, "b cannot hear it");

    let _back = PrivateRedis::start(redis.port).await;
    // Each node reconnects and tells its subscribers they may have missed messages.
    assert_eq!(next(&mut on_a, 15_000).await, Some(Bytes::new()));
    assert_eq!(next(&mut on_b, 15_000).await, Some(Bytes::new()));
    assert_eq!(a.health().await, Some(Ok(())));
    // And cross-node traffic resumes.
    let mut delivered = false;
    for _ in 0..50 {
        a.publish(&topic, Bytes::from_static(b"Fagain"))
            .await
            .unwrap();
        assert_eq!(
            next(&mut on_a, 1_000).await,
            Some(Bytes::from_static(b"Fagain"))
        );
        if next(&mut on_b, 200).await == Some(Bytes::from_static(b"Fagain")) {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "b hears a again");
}
