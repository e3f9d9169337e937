//! The chat scenario with the stock `socket.io-client` from npm (tests/js/chat-scenario.mjs).

use crate::common;

use common::node::run_node;
use common::{Backend, TestHub};

on_both_backends!(stock_clients_chat_and_recover);

async fn stock_clients_chat_and_recover(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "member").await;
    hub.add_member(&id, "alice", "carol", "member").await;
    let out = run_node(
        "chat-scenario.mjs",
        &[
            ("HUB_URL", hub.base.clone()),
            ("ROOM", format!("venture:{id}")),
            ("TOKEN_ALICE", hub.token("alice")),
            ("TOKEN_BOB", hub.token("bob")),
            ("TOKEN_CAROL", hub.token("carol")),
        ],
    )
    .await;
    assert!(out.contains("chat scenario: 1 passed, 0 failed"), "{out}");
    hub.stop().await.unwrap();
}
