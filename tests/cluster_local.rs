//! Two hubs in one process, sharing a database and an in-process bus: a cluster without
//! Redis, running the same presence and fan-out code a Redis cluster runs.

mod common;

use common::sio::Sio;
use common::{Backend, TestDb, TestHub, WAIT};
use hub::bus::{Bus, LocalBus};
use hub::services::presence::PresenceConfig;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(
    presence_typing_and_chat_cross_nodes,
    a_stopping_node_takes_its_users_along,
    a_crashed_node_leaves_no_ghosts,
    a_new_node_learns_who_is_there,
    removal_reaches_sockets_on_every_node,
);

fn fast() -> PresenceConfig {
    PresenceConfig {
        grace: Duration::from_millis(200),
        typing_ttl: Duration::from_secs(5),
        heartbeat: Duration::from_millis(100),
        dead_after: Duration::from_millis(600),
    }
}

async fn node(db: TestDb, bus: &Arc<dyn Bus>) -> TestHub {
    let runtime = hub::Runtime {
        bus: Some(bus.clone()),
        ..hub::Runtime::default()
    };
    TestHub::start_in(db, runtime, |c| c.presence = fast()).await
}

async fn two_nodes(backend: Backend) -> (TestHub, TestHub, String) {
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = node(db, &bus).await;
    let b = node(shared, &bus).await;
    let id = a.venture("alice", "Acme").await;
    a.add_member(&id, "alice", "bob", "member").await;
    a.add_member(&id, "alice", "carol", "member").await;
    (a, b, format!("venture:{id}"))
}

async fn presence_typing_and_chat_cross_nodes(backend: Backend) {
    let (a, b, room) = two_nodes(backend).await;
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

async fn a_stopping_node_takes_its_users_along(backend: Backend) {
    let (a, b, room) = two_nodes(backend).await;
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    alice.event("presence:join").await;
    b.stop().await.unwrap();
    assert_eq!(alice.event("presence:leave").await["user_id"], "bob");
    a.stop().await.unwrap();
}

async fn a_crashed_node_leaves_no_ghosts(backend: Backend) {
    let (a, b, room) = two_nodes(backend).await;
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

async fn a_new_node_learns_who_is_there(backend: Backend) {
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = node(db, &bus).await;
    let id = a.venture("alice", "Acme").await;
    a.add_member(&id, "alice", "carol", "member").await;
    let room = format!("venture:{id}");
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&room).await;
    alice.ok("presence:set", json!({"status": "away"})).await;

    // Node b starts after alice joined: it asks, and node a answers with its connections.
    let b = node(shared, &bus).await;
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

async fn removal_reaches_sockets_on_every_node(backend: Backend) {
    let (a, b, room) = two_nodes(backend).await;
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
