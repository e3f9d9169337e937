//! Socket.IO conformance, from the public Engine.IO v4 and Socket.IO v5 protocol documents:
//! raw packets over WebSocket and long-polling against a real hub, on both backends.

use crate::common;

use common::eio::{
    Frame, WsClient, polling_get, polling_open, polling_post, polling_recv, polling_url, ws_url,
};
use common::{Backend, TestHub};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

on_both_backends!(
    polling_handshake_opens_a_session,
    websocket_handshake_opens_a_session,
    bad_handshakes_are_refused_with_400,
    pings_keep_a_session_alive_and_a_missing_pong_closes_it,
    close_packet_ends_the_session,
    polling_upgrades_to_websocket,
    unknown_namespace_is_refused,
    connect_without_a_valid_token_is_refused,
    token_may_come_from_header_or_query,
    events_with_and_without_acks,
    events_over_long_polling,
    binary_attachments_round_trip,
    disconnect_packet_leaves_the_namespace,
    malformed_packets_close_the_connection,
    oversized_polling_payload_is_refused,
    an_event_sent_right_after_connect_is_never_lost,
);

async fn an_event_sent_right_after_connect_is_never_lost(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = hub.token("alice");
    // Clients commonly emit in their `connect` callback: the handlers must already be there
    // when the CONNECT answer leaves the server.
    for i in 0..40 {
        let mut c = WsClient::connected(hub.addr, &token).await;
        let ack = c.emit_ack(i, "sys:ping", Value::Null).await;
        assert_eq!(ack["ok"], true, "attempt {i}: {ack}");
    }
    hub.stop().await.unwrap();
}

async fn polling_handshake_opens_a_session(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (sid, open) = polling_open(&hub.http, hub.addr).await;
    assert!(!sid.is_empty());
    assert_eq!(open["upgrades"], json!(["websocket"]));
    assert_eq!(open["pingInterval"], 25000);
    assert_eq!(open["pingTimeout"], 20000);
    assert_eq!(open["maxPayload"], 1_000_000);
    hub.stop().await.unwrap();
}

async fn websocket_handshake_opens_a_session(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let c = WsClient::open(hub.addr, "").await;
    assert!(!c.sid.is_empty());
    assert_eq!(
        c.open["upgrades"],
        json!([]),
        "nothing to upgrade to from websocket"
    );
    assert_eq!(c.open["pingInterval"], 25000);
    hub.stop().await.unwrap();
}

async fn bad_handshakes_are_refused_with_400(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let base = format!("http://{}/socket.io/", hub.addr);
    for query in [
        "?EIO=3&transport=polling",
        "?EIO=5&transport=polling",
        "?transport=polling",
        "?EIO=4&transport=carrier-pigeon",
        "?EIO=4&transport=polling&sid=not-a-session",
    ] {
        let status = hub
            .http
            .get(format!("{base}{query}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 400, "{query}");
    }
    let status = hub
        .http
        .put(format!("{base}?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 400, "PUT is not a handshake method");
    hub.stop().await.unwrap();
}

async fn pings_keep_a_session_alive_and_a_missing_pong_closes_it(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.socket.ping_interval = Duration::from_millis(100);
        c.socket.ping_timeout = Duration::from_millis(100);
    })
    .await;
    let token = hub.token("alice");
    // A client that answers every ping stays connected across many intervals.
    let mut live = WsClient::connected(hub.addr, &token).await;
    live.auto_pong = false;
    for _ in 0..5 {
        assert_eq!(live.recv().await, Frame::Text("2".into()));
        live.send("3").await;
    }
    let pong = live.emit_ack(1, "sys:ping", Value::Null).await;
    assert_eq!(pong["ok"], true);

    // A client that stops answering is closed by the server.
    let mut silent = WsClient::connected(hub.addr, &token).await;
    silent.auto_pong = false;
    let mut pings = 0;
    loop {
        match silent.recv().await {
            Frame::Text(t) if t == "2" => pings += 1,
            Frame::Closed => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 1);
    hub.stop().await.unwrap();
}

async fn close_packet_ends_the_session(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut c = WsClient::connected(hub.addr, &hub.token("alice")).await;
    c.send("1").await;
    c.expect_closed().await;

    // Over polling, a closed session is unknown afterwards.
    let (sid, _) = polling_open(&hub.http, hub.addr).await;
    assert_eq!(polling_post(&hub.http, hub.addr, &sid, &["1"]).await, 200);
    let status = hub
        .http
        .get(polling_url(hub.addr, Some(&sid)))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 400);
    hub.stop().await.unwrap();
}

async fn polling_upgrades_to_websocket(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (sid, _) = polling_open(&hub.http, hub.addr).await;
    let connect = format!("40{}", json!({"token": hub.token("alice")}));
    assert_eq!(
        polling_post(&hub.http, hub.addr, &sid, &[&connect]).await,
        200
    );
    let packets = polling_recv(&hub.http, hub.addr, &sid).await;
    assert!(packets.iter().any(|p| p.starts_with("40{")), "{packets:?}");

    let (ws, _) = tokio_tungstenite::connect_async(ws_url(hub.addr, &format!("&sid={sid}")))
        .await
        .unwrap();
    let mut c = WsClient {
        ws,
        sid: sid.clone(),
        open: Value::Null,
        auto_pong: true,
    };
    c.send("2probe").await;
    assert_eq!(c.recv_text().await, "3probe");
    // While the upgrade is pending, a parked polling request is released (noop packet).
    let http = hub.http.clone();
    let addr = hub.addr;
    let sid2 = sid.clone();
    let parked = tokio::spawn(async move { polling_get(&http, addr, &sid2).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send("5").await;
    let (status, packets) = parked.await.unwrap();
    assert_eq!(status, 200);
    assert!(packets.iter().all(|p| p == "6"), "{packets:?}");

    let pong = c.emit_ack(7, "sys:ping", Value::Null).await;
    assert_eq!(pong["ok"], true);
    hub.stop().await.unwrap();
}

async fn unknown_namespace_is_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut c = WsClient::open(hub.addr, "").await;
    c.send(&format!("40/nope,{}", json!({"token": hub.token("alice")})))
        .await;
    let answer = c.recv_text().await;
    let payload = answer
        .strip_prefix("44/nope,")
        .unwrap_or_else(|| panic!("{answer}"));
    let err: Value = serde_json::from_str(payload).unwrap();
    assert!(err["message"].is_string(), "{err}");
    // The main namespace still works on the same connection.
    c.send(&format!("40{}", json!({"token": hub.token("alice")})))
        .await;
    assert!(c.recv_text().await.starts_with("40{"));
    hub.stop().await.unwrap();
}

async fn connect_without_a_valid_token_is_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let forged = hub::auth::mint_with_secret(
        b"some-other-secret-some-other-secret!",
        "alice",
        None,
        hub_protocol::AccountRole::User,
        Duration::from_secs(60),
    )
    .unwrap();
    for (token, message) in [
        (None, "unauthorized: missing token"),
        (Some("garbage"), "unauthorized: invalid token"),
        (Some(forged.as_str()), "unauthorized: invalid token"),
    ] {
        let (mut c, answer) = WsClient::connect(hub.addr, token).await;
        let payload = answer
            .strip_prefix("44")
            .unwrap_or_else(|| panic!("{answer}"));
        let err: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(err["message"], message);
        // A refused socket reaches no handler: an event on the refused namespace is a protocol
        // violation and ends the session without an ack.
        c.send("421[\"sys:ping\"]").await;
        loop {
            match c.recv().await {
                Frame::Closed => break,
                Frame::Text(t) => assert!(!t.starts_with("43"), "refused socket got an ack: {t}"),
                Frame::Binary(_) => panic!("unexpected binary"),
            }
        }
    }
    hub.stop().await.unwrap();
}

async fn token_may_come_from_header_or_query(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = hub.token("alice");
    let mut req = ws_url(hub.addr, "").into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut c = WsClient {
        ws,
        sid: String::new(),
        open: Value::Null,
        auto_pong: true,
    };
    assert!(c.recv_text().await.starts_with('0'));
    c.send("40").await;
    assert!(c.recv_text().await.starts_with("40{"));

    let mut c = WsClient::open(hub.addr, &format!("&token={token}")).await;
    c.send("40").await;
    assert!(c.recv_text().await.starts_with("40{"));
    hub.stop().await.unwrap();
}

async fn events_with_and_without_acks(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut c = WsClient::connected(hub.addr, &hub.token("alice")).await;
    // No ack id: the server answers nothing, so the next packet is the ack of the next event.
    c.send("42[\"sys:ping\"]").await;
    c.send("425[\"sys:ping\"]").await;
    let text = c.recv_text().await;
    assert!(text.starts_with("435["), "{text}");
    let ack: Value = serde_json::from_str(&text[3..]).unwrap();
    assert_eq!(ack[0]["ok"], true);
    assert!(ack[0]["time"].is_string());

    let err = c.emit_ack(6, "no:such:event", json!({})).await;
    assert_eq!(err["ok"], false);
    assert_eq!(err["error"]["code"], "not_found");

    let err = c
        .emit_ack(7, "sys:echo", json!({"data": "not binary"}))
        .await;
    assert_eq!(err["ok"], false);
    assert_eq!(err["error"]["code"], "invalid");
    hub.stop().await.unwrap();
}

async fn events_over_long_polling(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (sid, _) = polling_open(&hub.http, hub.addr).await;
    let connect = format!("40{}", json!({"token": hub.token("alice")}));
    polling_post(&hub.http, hub.addr, &sid, &[&connect]).await;
    let packets = polling_recv(&hub.http, hub.addr, &sid).await;
    assert!(packets[0].starts_with("40{"), "{packets:?}");
    // Two packets in one payload; handlers run concurrently, so acks come in any order.
    polling_post(
        &hub.http,
        hub.addr,
        &sid,
        &["421[\"sys:ping\"]", "422[\"sys:ping\"]"],
    )
    .await;
    let mut acks = Vec::new();
    while acks.len() < 2 {
        let packets = polling_recv(&hub.http, hub.addr, &sid).await;
        acks.extend(packets.into_iter().filter(|p| p.starts_with("43")));
    }
    acks.sort();
    assert!(acks[0].starts_with("431[{\"ok\":true"), "{acks:?}");
    assert!(acks[1].starts_with("432[{\"ok\":true"), "{acks:?}");
    hub.stop().await.unwrap();
}

async fn binary_attachments_round_trip(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut c = WsClient::connected(hub.addr, &hub.token("alice")).await;
    let payload = vec![0u8, 1, 2, 254, 255];
    c.send("451-9[\"sys:echo\",{\"data\":{\"_placeholder\":true,\"num\":0}}]")
        .await;
    c.send_binary(payload.clone()).await;
    let header = c.recv_text().await;
    let rest = header
        .strip_prefix("461-9")
        .unwrap_or_else(|| panic!("expected a binary ack, got {header}"));
    let ack: Value = serde_json::from_str(rest).unwrap();
    assert_eq!(ack[0]["ok"], true);
    assert_eq!(ack[0]["size"], 5);
    assert_eq!(ack[0]["data"], json!({"_placeholder": true, "num": 0}));
    assert_eq!(c.recv_binary().await, payload);
    hub.stop().await.unwrap();
}

async fn disconnect_packet_leaves_the_namespace(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = hub.token("alice");
    let mut c = WsClient::connected(hub.addr, &token).await;
    let first_sid = c.sid.clone();
    c.send("41").await;
    // The transport stays open: the same session joins the namespace again, as a new socket.
    // socketioxide drops the old socket in a deferred task and ignores a connect that arrives
    // before that as a duplicate, so the connect is repeated until answered.
    let connect = format!("40{}", json!({"token": token}));
    let mut answer = None;
    for _ in 0..50 {
        c.send(&connect).await;
        if let Some(Frame::Text(t)) = c.recv_within(Duration::from_millis(200)).await {
            answer = Some(t);
            break;
        }
    }
    let answer = answer.expect("no answer to the new connect");
    assert!(answer.starts_with("40{"), "{answer}");
    assert_eq!(c.emit_ack(1, "sys:ping", Value::Null).await["ok"], true);
    assert_eq!(c.sid, first_sid);
    hub.stop().await.unwrap();
}

async fn malformed_packets_close_the_connection(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = hub.token("alice");
    // Broken JSON, an unknown Socket.IO type, an unknown Engine.IO type, an event name that is not a string.
    for garbage in ["42[1,2]", "42[\"sys:ping\"", "4X", "9hello"] {
        let mut c = WsClient::connected(hub.addr, &token).await;
        c.send(garbage).await;
        c.expect_closed().await;
    }
    // A binary frame that no packet announced.
    let mut c = WsClient::connected(hub.addr, &token).await;
    c.send_binary(vec![1, 2, 3]).await;
    c.expect_closed().await;
    // The hub is unharmed.
    let mut c = WsClient::connected(hub.addr, &token).await;
    assert_eq!(c.emit_ack(1, "sys:ping", Value::Null).await["ok"], true);
    hub.stop().await.unwrap();
}

async fn oversized_polling_payload_is_refused(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.socket.max_payload = 10_000).await;
    let (sid, open) = polling_open(&hub.http, hub.addr).await;
    assert_eq!(open["maxPayload"], 10_000);
    let big = format!("42[\"sys:ping\",\"{}\"]", "x".repeat(20_000));
    let status = polling_post(&hub.http, hub.addr, &sid, &[&big]).await;
    assert_eq!(status, 413);
    hub.stop().await.unwrap();
}
