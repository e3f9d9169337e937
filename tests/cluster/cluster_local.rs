//! Two hubs in one process sharing a database, over each bus: an in-process one (a cluster
//! without Redis) and the real Redis (each test cluster on channels of its own). The same
//! presence and fan-out code runs above both.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestDb, TestHub, WAIT};
use hub::bus::{Bus, LocalBus};
use hub::services::presence::PresenceConfig;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub(crate) enum Fabric {
    /// One in-process bus; each node takes a node of its own on it.
    InProcess(LocalBus),
    /// Redis, on channels prefixed by this.
    Redis(String),
}

impl Fabric {
    pub(crate) fn new(redis: bool) -> Fabric {
        if redis {
            Fabric::Redis(common::redis::prefix())
        } else {
            Fabric::InProcess(LocalBus::new())
        }
    }
}

/// Each scenario on SQLite and Postgres over the in-process bus, and on Postgres over Redis.
#[macro_export]
macro_rules! on_every_bus {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite, false).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres, false).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_over_redis() {
                    super::$name($crate::common::Backend::Postgres, true).await
                }
            }
        )*
    };
}

on_every_bus!(
    presence_typing_and_chat_cross_nodes,
    a_stopping_node_takes_its_users_along,
    a_crashed_node_leaves_no_ghosts,
    a_new_node_learns_who_is_there,
    removal_reaches_sockets_on_every_node,
    a_slow_consumer_holds_back_no_one_on_any_node,
);

fn fast() -> PresenceConfig {
    PresenceConfig {
        grace: Duration::from_millis(200),
        typing_ttl: Duration::from_secs(5),
        heartbeat: Duration::from_millis(100),
        dead_after: Duration::from_millis(600),
        ..PresenceConfig::DEFAULT
    }
}

pub(crate) async fn node(db: TestDb, fabric: &Fabric) -> TestHub {
    node_with(db, fabric, |_| {}).await
}

pub(crate) async fn node_with(
    db: TestDb,
    fabric: &Fabric,
    tweak: impl FnOnce(&mut hub::Config) + Send + 'static,
) -> TestHub {
    match fabric {
        Fabric::InProcess(bus) => {
            let bus: Arc<dyn Bus> = Arc::new(bus.node());
            let runtime = hub::Runtime {
                bus: Some(bus),
                ..hub::Runtime::default()
            };
            TestHub::start_in(db, runtime, |c| {
                c.presence = fast();
                tweak(c);
            })
            .await
        }
        Fabric::Redis(prefix) => {
            let prefix = prefix.clone();
            TestHub::start_on(db, move |c| {
                c.presence = fast();
                c.redis_url = Some(common::redis::redis_url());
                c.redis_prefix = prefix;
                tweak(c);
            })
            .await
        }
    }
}

pub(crate) async fn two_nodes(backend: Backend, redis: bool) -> (TestHub, TestHub, String) {
    let fabric = Fabric::new(redis);
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = node(db, &fabric).await;
    let b = node(shared, &fabric).await;
    let id = a.venture("alice", "Acme").await;
    a.add_member(&id, "alice", "bob", "member").await;
    a.add_member(&id, "alice", "carol", "member").await;
    (a, b, format!("venture:{id}"))
}

async fn presence_typing_and_chat_cross_nodes(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    let joined = bob.join(&room).await;
    let present: Vec<&str> = joined["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap())
        .collect();
    assert!(
        present.contains(&"alice") && present.contains(&"bob"),
        "{joined}"
    );
    assert_eq!(alice.event("presence:join").await["user"]["user_id"], "bob");

    // A second tab of bob, on the other node: still one user.
    let mut bob_a = Sio::connect(a.addr, &a.token("bob")).await;
    bob_a.join(&room).await;
    let m = bob.say(&room, "x1", "hello from node b").await;
    assert_eq!(alice.event("chat:message").await, m);
    assert_eq!(bob_a.event("chat:message").await, m);
    assert!(
        alice.received("presence:join").await.is_empty(),
        "one user, two nodes, one join"
    );

    alice.ok("typing:start", json!({"room": room})).await;
    assert_eq!(bob.event("typing").await["user_id"], "alice");
    bob.ok("presence:set", json!({"status": "busy"})).await;
    assert_eq!(
        alice.event("presence:update").await["user"]["status"],
        "busy"
    );

    bob.close().await;
    bob_a.close().await;
    assert_eq!(alice.event("presence:leave").await["user_id"], "bob");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

async fn a_stopping_node_takes_its_users_along(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    alice.event("presence:join").await;
    b.stop().await.unwrap();
    assert_eq!(alice.event("presence:leave").await["user_id"], "bob");
    a.stop().await.unwrap();
}

async fn a_crashed_node_leaves_no_ghosts(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    alice.event("presence:join").await;
    b.crash().await;
    // No goodbye: the survivor notices the missing heartbeats and announces the leave.
    assert_eq!(
        alice.event("presence:leave").await,
        json!({"room": room, "user_id": "bob"})
    );
    let mut again = Sio::connect(a.addr, &a.token("carol")).await;
    let present: Vec<String> = again.join(&room).await["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!present.contains(&"bob".to_owned()), "ghost: {present:?}");
    a.stop().await.unwrap();
}

async fn a_new_node_learns_who_is_there(backend: Backend, redis: bool) {
    let fabric = Fabric::new(redis);
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = node(db, &fabric).await;
    let id = a.venture("alice", "Acme").await;
    a.add_member(&id, "alice", "carol", "member").await;
    let room = format!("venture:{id}");
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    alice.ok("presence:set", json!({"status": "away"})).await;

    // Node b starts after alice joined: it asks, and node a answers with its connections.
    let b = node(shared, &fabric).await;
    let mut carol = Sio::connect(b.addr, &b.token("carol")).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let joined = carol.join(&room).await;
        if let Some(e) = joined["presence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["user_id"] == "alice")
        {
            assert_eq!(e["status"], "away");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node b never learned of alice: {joined}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

async fn removal_reaches_sockets_on_every_node(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    let venture = room.trim_start_matches("venture:");
    let (status, _) = a
        .delete(
            &format!("/api/v1/ventures/{venture}/members/bob"),
            &a.token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(bob.event("room:removed").await["room"], room.as_str());
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "z", "body": "hi"}),
        "forbidden",
    )
    .await;
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

async fn a_slow_consumer_holds_back_no_one_on_any_node(backend: Backend, redis: bool) {
    let fabric = Fabric::new(redis);
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let small = |c: &mut hub::Config| {
        c.socket.max_buffer_size = 64;
        c.chat.max_body_chars = 200_000;
    };
    let a = node_with(db, &fabric, small).await;
    let b = node_with(shared, &fabric, small).await;
    let id = a.venture("alice", "Acme").await;
    for user in ["bob", "carol", "dave"] {
        a.add_member(&id, "alice", user, "member").await;
    }
    let room = format!("venture:{id}");
    let slow_consumers = || b.metric("hub_socket_slow_consumers_total");
    let before = slow_consumers().await;
    // Bob, on node b, joins and then never reads; carol beside him and dave on node a read all
    // along, until the last message.
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    let mut readers = Vec::new();
    for (hub, user) in [(&b, "carol"), (&a, "dave")] {
        let mut reader = Sio::connect(hub.addr, &hub.token(user)).await;
        reader.join(&room).await;
        readers.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            loop {
                let m = reader
                    .event_where("chat:message", |m| m["author_id"] == "alice")
                    .await;
                seqs.push(m["seq"].as_u64().unwrap());
                if m["body"] == "the end" {
                    return seqs;
                }
            }
        }));
    }
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    let body = "x".repeat(150_000);
    let mut sent = 0u64;
    while slow_consumers().await <= before {
        alice.say(&room, &format!("big-{sent}"), &body).await;
        sent += 1;
        assert!(sent < 2_000, "bob was never disconnected");
    }
    alice.say(&room, "end", "the end").await;
    // Everyone else got every message, in order, while bob stalled and was let go.
    for reader in readers {
        let seqs = reader.await.unwrap();
        assert_eq!(seqs, (1..=sent + 1).collect::<Vec<u64>>());
    }
    drop(bob);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
