//! Collaborative documents: REST, the `/yjs` endpoint with stock Yjs clients (node), documents
//! over Socket.IO, persistence across restarts, single loads, limits, on both backends.

mod common;

use common::node::run_node;
use common::{Backend, TestHub};
use serde_json::{Value, json};

on_both_backends!(stock_yjs_clients_collaborate,);

/// A venture with alice (owner), bob (member), vic (viewer); returns its room.
async fn venture_room(hub: &TestHub) -> String {
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "member").await;
    hub.add_member(&id, "alice", "vic", "viewer").await;
    format!("venture:{id}")
}

async fn new_doc(hub: &TestHub, room: &str, title: &str) -> String {
    let (status, doc) = hub
        .post(
            "/api/v1/docs",
            &hub.token("alice"),
            json!({"room": room, "title": title}),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    doc["id"].as_str().unwrap().to_owned()
}

async fn stock_yjs_clients_collaborate(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut docs = Vec::new();
    for i in 0..5 {
        docs.push(new_doc(&hub, &room, &format!("doc {i}")).await);
    }
    let out = run_node(
        "yjs-scenarios.mjs",
        &[
            ("HUB_URL", hub.base.clone()),
            ("DOCS", docs.join(",")),
            ("TOKEN_ALICE", hub.token("alice")),
            ("TOKEN_BOB", hub.token("bob")),
            ("TOKEN_VIC", hub.token("vic")),
        ],
    )
    .await;
    assert!(out.contains("yjs: 5 passed, 0 failed"), "{out}");
    let _: Value = Value::Null;
    hub.stop().await.unwrap();
}
