//! Interop with the real `socket.io-client` 4.8 from npm, run by node against a live hub:
//! connect with a token, refusal without one, acks, binary payloads, reconnect.
//! Needs `npm ci --prefix tests/js` (the test command in the README does it).

use crate::common;

use common::node::run_node;
use common::{Backend, TestHub};

on_both_backends!(stock_socketio_client_interoperates);

async fn stock_socketio_client_interoperates(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let out = run_node(
        "socketio-interop.mjs",
        &[
            ("HUB_URL", hub.base.clone()),
            ("HUB_TOKEN", hub.token("alice")),
        ],
    )
    .await;
    assert!(out.contains("interop: 6 passed, 0 failed"), "{out}");
    hub.stop().await.unwrap();
}
