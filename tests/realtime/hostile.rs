//! Hostile and broken clients cannot hurt the hub or anyone else: a regression test for each
//! defect found by probing, on both backends, with real clients (raw WebSocket and Engine.IO
//! for stalls and floods, raw y-protocols and stock y-websocket for documents).

use crate::common;

use common::eio::WsClient;
use common::node::run_node;
use common::sio::Sio;
use common::yjs::{YClient, YFrame, text_of, text_update};
use common::{Backend, TestDb, TestHub, WAIT};
use hub::bus::{Bus, LocalBus};
use hub_rooms::doc::awareness_frame;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use yrs::encoding::write::Write;
use yrs::sync::{Awareness, Message as YMessage, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, StateVector};

on_both_backends!(
    a_socketio_client_that_stops_reading_is_closed_and_leaves_presence,
    a_stalled_yjs_connection_is_closed_and_others_keep_editing,
    an_awareness_flood_is_bounded_and_drops_no_honest_editor,
    sessions_that_never_connect_are_closed_quickly,
    a_demotion_reaches_open_connections_on_every_node,
    awareness_that_is_not_json_is_refused_and_never_served,
    close_frames_carry_their_code_with_a_short_reason,
    nul_characters_are_refused_alike_on_both_backends,
    relays_carry_what_the_document_applied,
    a_retry_costs_nothing_and_a_viewer_write_is_forbidden,
    stock_clients_see_close_codes_and_converge_after_hostile_frames,
);

/// A venture with alice (owner), bob (member), vic (viewer), and a document in its room.
async fn venture_with_doc(hub: &TestHub) -> (String, String, String) {
    let venture = hub.venture("alice", "Acme").await;
    hub.add_member(&venture, "alice", "bob", "member").await;
    hub.add_member(&venture, "alice", "vic", "viewer").await;
    let room = format!("venture:{venture}");
    let (status, doc) = hub
        .post(
            "/api/v1/docs",
            &hub.token("alice"),
            json!({"room": room, "title": "Plan"}),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    (venture, room, doc["id"].as_str().unwrap().to_owned())
}

/// An awareness frame announcing `json` as the state of awareness client `client`.
fn awareness(client: u64, json: &str) -> Vec<u8> {
    let mut peer = Awareness::new(Doc::with_client_id(client));
    peer.set_local_state_raw(json);
    YMessage::Awareness(peer.update().unwrap()).encode_v1()
}

/// The awareness states in an awareness frame: `(client, json)`.
fn awareness_states(frame: &[u8]) -> Vec<(u64, String)> {
    match YMessage::decode_v1(frame) {
        Ok(YMessage::Awareness(update)) => update
            .clients
            .iter()
            .map(|(id, e)| (id.get(), e.json.to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

fn step1() -> Vec<u8> {
    YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1()
}

/// Reads frames until the server's answer to our step 1 (`[0, 1, ...]`); returns the frames
/// seen before it.
async fn until_step2(c: &mut YClient) -> Vec<Vec<u8>> {
    let mut before = Vec::new();
    loop {
        match c.recv().await {
            YFrame::Binary(b) if b.starts_with(&[0, 1]) => return before,
            YFrame::Binary(b) => before.push(b),
            YFrame::Closed(code) => panic!("closed ({code:?}) before step 2"),
        }
    }
}

async fn a_socketio_client_that_stops_reading_is_closed_and_leaves_presence(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.socket.write_timeout = Duration::from_millis(500);
        c.presence.grace = Duration::from_millis(200);
    })
    .await;
    let (_, room, _) = venture_with_doc(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = WsClient::connected_tiny_window(hub.addr, &hub.token("bob")).await;
    let joined = bob.emit_ack(1, "room:join", json!({ "room": room })).await;
    assert_eq!(joined["ok"], true, "{joined}");
    alice.event("presence:join").await;

    // Bob asks for large echoes and never reads them: his window and the hub's send buffer fill.
    let payload = vec![7u8; 900_000];
    for id in 2..16 {
        bob.send(&format!(
            r#"451-{id}["sys:echo",{{"data":{{"_placeholder":true,"num":0}}}}]"#
        ))
        .await;
        bob.send_binary(payload.clone()).await;
    }
    // The hub gives up on the stalled writer, closes the connection, and bob leaves.
    let left = alice.event("presence:leave").await;
    assert_eq!(left, json!({"room": room, "user_id": "bob"}));
    // Bob's side sees the end of the stream once it reads again.
    bob.auto_pong = false;
    bob.expect_closed().await;
    // Everyone else is untouched.
    alice.say(&room, "after", "still here").await;
    hub.stop().await.unwrap();
}

async fn a_stalled_yjs_connection_is_closed_and_others_keep_editing(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.socket.write_timeout = Duration::from_millis(500);
        c.docs.queue_bytes = 1024 * 1024;
    })
    .await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    // A document of ~400 KB: every step 2 carries all of it.
    let status = hub
        .post_doc_update(
            &doc,
            &hub.token("alice"),
            text_update(1, &"x".repeat(400_000)),
        )
        .await;
    assert_eq!(status, 204);
    let mut alice = YClient::connect(hub.addr, &doc, Some(&hub.token("alice")))
        .await
        .unwrap();
    alice.recv_prefixed(&[0, 0]).await;

    let url = format!("ws://{}/yjs/{doc}?token={}", hub.addr, hub.token("bob"));
    let mut bob = YClient {
        ws: common::eio::tiny_window_ws(hub.addr, &url).await,
    };
    bob.send(awareness(99, r#"{"user":"bob"}"#)).await;
    let seen = alice.recv_prefixed(&[1]).await;
    assert_eq!(
        awareness_states(&seen),
        vec![(99, r#"{"user":"bob"}"#.into())]
    );
    // Bob asks for the whole document again and again, and reads nothing.
    for _ in 0..30 {
        bob.send(step1()).await;
    }
    // The hub closes bob (queue over its bytes, or the write timeout), and his awareness goes.
    loop {
        let frame = alice.recv_prefixed(&[1]).await;
        if awareness_states(&frame) == vec![(99, "null".to_owned())] {
            break;
        }
    }
    // Alice keeps editing.
    alice
        .send(YMessage::Sync(SyncMessage::Update(text_update(2, "alice was here"))).encode_v1())
        .await;
    let mut carol = YClient::connect(hub.addr, &doc, Some(&hub.token("alice")))
        .await
        .unwrap();
    carol.send(step1()).await;
    until_step2(&mut carol).await;
    assert!(text_of(&hub.doc_state(&doc).await).contains("alice was here"));
    // Bob's stream ends.
    loop {
        if let YFrame::Closed(_) = bob.recv().await {
            break;
        }
    }
    hub.stop().await.unwrap();
}

async fn an_awareness_flood_is_bounded_and_drops_no_honest_editor(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    let limits = hub.config.docs.limits;
    let connect = |user: &'static str| {
        let token = hub.token(user);
        let addr = hub.addr;
        let doc = doc.clone();
        async move {
            let mut c = YClient::connect(addr, &doc, Some(&token)).await.unwrap();
            c.recv_prefixed(&[0, 0]).await;
            c
        }
    };
    let mut alice = connect("alice").await;
    let mut bob = connect("bob").await;

    // A 200 KB awareness state from a viewer: refused as too large (1009), relayed to no one.
    let mut vic = connect("vic").await;
    vic.send(awareness(
        66,
        &format!(r#"{{"pad":"{}"}}"#, "x".repeat(200_000)),
    ))
    .await;
    assert_eq!(vic.closed().await, Some(1009));

    // Many small ones: the burst passes, the rest is skipped.
    let mut vic2 = connect("vic").await;
    let flood = 4 * limits.awareness_burst as usize;
    for i in 0..flood {
        vic2.send(awareness(77, &format!(r#"{{"n":{i}}}"#))).await;
    }
    // Frames of one connection are handled in order: the answer to this step 1 means every
    // frame of the flood was handled (and relayed, or skipped) before it.
    vic2.send(step1()).await;
    until_step2(&mut vic2).await;
    bob.send(YMessage::Sync(SyncMessage::Update(text_update(5, "honest"))).encode_v1())
        .await;
    let mut from_vic = 0;
    loop {
        match alice.recv().await {
            YFrame::Binary(b) if b.starts_with(&[1]) => {
                if awareness_states(&b).iter().any(|(id, _)| *id == 77) {
                    from_vic += 1;
                }
            }
            YFrame::Binary(b) if b.starts_with(&[0, 2]) => break,
            YFrame::Binary(_) => {}
            YFrame::Closed(code) => panic!("an honest editor was closed: {code:?}"),
        }
    }
    assert!(
        from_vic >= limits.awareness_burst as usize && from_vic < flood / 2,
        "{from_vic} of {flood} awareness frames relayed"
    );
    // Both honest editors are still connected and in sync.
    alice
        .send(YMessage::Sync(SyncMessage::Update(text_update(6, "too "))).encode_v1())
        .await;
    bob.recv_prefixed(&[0, 2]).await;
    hub.stop().await.unwrap();
}

async fn sessions_that_never_connect_are_closed_quickly(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.socket.connect_timeout = Duration::from_millis(300);
    })
    .await;
    let mut sessions = Vec::new();
    for i in 0..100 {
        let mut c = WsClient::open(hub.addr, "").await;
        if i % 2 == 0 {
            // Half are refused (a bad token) and linger; half never even try.
            c.send(r#"40{"token":"forged"}"#).await;
            let answer = c.recv_text().await;
            assert!(answer.starts_with("44"), "{answer}");
        }
        sessions.push(c);
    }
    let closed = futures_util::future::join_all(sessions.iter_mut().map(|c| c.expect_closed()));
    tokio::time::timeout(WAIT, closed)
        .await
        .expect("every session that never connected is closed");
    hub.stop().await.unwrap();
}

async fn a_demotion_reaches_open_connections_on_every_node(backend: Backend) {
    let bus = LocalBus::new();
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    // Two nodes on one in-process bus.
    let (b1, b2): (Arc<dyn Bus>, Arc<dyn Bus>) = (Arc::new(bus.node()), Arc::new(bus.node()));
    let on_bus = |bus| hub::Runtime {
        bus: Some(bus),
        ..hub::Runtime::default()
    };
    let a = TestHub::start_in(db, on_bus(b1), |_| {}).await;
    let b = TestHub::start_in(shared, on_bus(b2), |_| {}).await;
    let (venture, room, doc) = venture_with_doc(&a).await;
    a.add_member(&venture, "alice", "carol", "admin").await;
    let (status, team) = a
        .post(
            &format!("/api/v1/ventures/{venture}/teams"),
            &a.token("alice"),
            json!({"name": "Core"}),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    let team_room = format!("team:{}", team["id"].as_str().unwrap());

    // Bob, an editor, has the document open twice on node b: /yjs and Socket.IO.
    let mut bob_ws = YClient::connect(b.addr, &doc, Some(&b.token("bob")))
        .await
        .unwrap();
    bob_ws.recv_prefixed(&[0, 0]).await;
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    let joined = bob.ok("doc:join", json!({ "doc": doc })).await;
    assert_eq!(joined["can_write"], true);
    // Carol, a venture admin, is in the team room on node b without being on the team.
    let mut carol = Sio::connect(b.addr, &b.token("carol")).await;
    carol.join(&team_room).await;
    carol.join(&room).await;
    let mut alice = Sio::connect(a.addr, &a.token("alice")).await;
    alice.join(&team_room).await;
    alice.join(&room).await;

    // Demoted on node a.
    a.add_member(&venture, "alice", "bob", "viewer").await;
    a.add_member(&venture, "alice", "carol", "member").await;

    let told = bob
        .event_where("room:role", |e| e["room"] == room.as_str())
        .await;
    assert_eq!(
        told,
        json!({"room": room, "role": "viewer", "can_write": false})
    );
    // Socket.IO: the write is refused as forbidden, and not applied.
    let frame = YMessage::Sync(SyncMessage::Update(text_update(40, "sneaky"))).encode_v1();
    let refused = doc_msg(&mut bob, &doc, frame.clone()).await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["error"]["code"], "forbidden");
    // /yjs: the same write is dropped.
    bob_ws.send(frame).await;
    // Carol lost the team room (she is no venture admin any more) but keeps the venture room.
    let removed = carol.event("room:removed").await;
    assert_eq!(removed["room"], team_room.as_str());
    alice.say(&team_room, "t1", "team only").await;
    alice.say(&room, "v1", "everyone").await;
    carol
        .event_where("chat:message", |m| m["client_id"] == "v1")
        .await;
    let seen: Vec<Value> = carol.received("chat:message").await;
    assert!(
        seen.iter().all(|m| m["room"] != team_room.as_str()),
        "{seen:?}"
    );
    // Bob's /yjs write reached no one: a fresh reader sees none of "sneaky".
    let mut reader = YClient::connect(a.addr, &doc, Some(&a.token("alice")))
        .await
        .unwrap();
    reader.send(step1()).await;
    until_step2(&mut reader).await;
    assert!(!text_of(&a.doc_state(&doc).await).contains("sneaky"));
    assert!(!text_of(&b.doc_state(&doc).await).contains("sneaky"));
    // Carol kept the venture room with her new role.
    let carol_role = carol
        .event_where("room:role", |e| e["room"] == room.as_str())
        .await;
    assert_eq!(carol_role["role"], "member");
    // Setting the same role again tells no one anything; a real change does (the bus is
    // ordered: a message for the first would arrive before the second's).
    a.add_member(&venture, "alice", "bob", "viewer").await;
    a.add_member(&venture, "alice", "bob", "member").await;
    let told = bob.event("room:role").await;
    assert_eq!(
        told,
        json!({"room": room, "role": "member", "can_write": true})
    );
    let ack = doc_msg(
        &mut bob,
        &doc,
        YMessage::Sync(SyncMessage::Update(text_update(41, "allowed"))).encode_v1(),
    )
    .await;
    assert_eq!(ack["ok"], true, "{ack}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// Sends `doc:msg (doc, bytes)` with a binary attachment and returns its ack.
async fn doc_msg(c: &mut Sio, doc: &str, frame: Vec<u8>) -> Value {
    c.call_binary("doc:msg", json!(doc), frame).await
}

async fn awareness_that_is_not_json_is_refused_and_never_served(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    let mut bad = YClient::connect(hub.addr, &doc, Some(&hub.token("bob")))
        .await
        .unwrap();
    bad.recv_prefixed(&[0, 0]).await;
    bad.send(awareness_frame(5, "{not json")).await;
    assert_eq!(bad.closed().await, Some(1003));
    // Over Socket.IO too: an error, and the socket stays usable.
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.ok("doc:join", json!({ "doc": doc })).await;
    let ack = doc_msg(&mut bob, &doc, awareness_frame(6, "undefined")).await;
    assert_eq!(ack["error"]["code"], "invalid", "{ack}");
    // A newcomer is greeted with no awareness at all: nothing was stored.
    let mut next = YClient::connect(hub.addr, &doc, Some(&hub.token("alice")))
        .await
        .unwrap();
    next.send(step1()).await;
    let before = until_step2(&mut next).await;
    assert!(
        before.iter().all(|f| !f.starts_with(&[1])),
        "no awareness state was kept: {before:?}"
    );
    hub.stop().await.unwrap();
}

async fn close_frames_carry_their_code_with_a_short_reason(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.docs.limits.max_update_bytes = 64).await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    for (frame, code) in [
        // A sync message of an unknown kind whose error text runs long.
        (vec![0, 9, 200, 1, 2, 3], 1003),
        (awareness_frame(5, &"{".repeat(300)), 1003),
        (
            YMessage::Sync(SyncMessage::Update(text_update(3, &"y".repeat(200)))).encode_v1(),
            1009,
        ),
    ] {
        let mut c = YClient::connect(hub.addr, &doc, Some(&hub.token("bob")))
            .await
            .unwrap();
        c.recv_prefixed(&[0, 0]).await;
        c.send(frame).await;
        // tungstenite refuses a close frame whose reason is over 123 bytes: the code would be
        // lost (`None`), as browsers report 1006.
        assert_eq!(c.closed().await, Some(code));
    }
    hub.stop().await.unwrap();
}

async fn nul_characters_are_refused_alike_on_both_backends(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (venture, room, doc) = venture_with_doc(&hub).await;
    let alice = hub.token("alice");
    // REST bodies and paths.
    for (path, body) in [
        ("/api/v1/ventures".to_owned(), json!({"name": "Ac\u{0}me"})),
        (
            "/api/v1/ventures".to_owned(),
            json!({"name": "Acme", "description": "a\u{0}b"}),
        ),
        (
            format!("/api/v1/ventures/{venture}/members"),
            json!({"user_id": "x\u{0}y", "role": "member"}),
        ),
        (
            "/api/v1/docs".to_owned(),
            json!({"room": room, "title": "t\u{0}"}),
        ),
    ] {
        let (status, body) = hub.post(&path, &alice, body).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("invalid")),
            "{path}"
        );
    }
    assert_eq!(
        YClient::connect(hub.addr, "a%00b", Some(&alice))
            .await
            .err(),
        Some(422)
    );
    for path in [
        format!("/api/v1/ventures/{venture}%00"),
        "/api/v1/docs/a%00b".to_owned(),
        "/api/v1/teams/t%00/members/bob".to_owned(),
    ] {
        let (status, body) = if path.contains("/members/") {
            hub.delete(&path, &alice).await
        } else {
            hub.get(&path, &alice).await
        };
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("invalid")),
            "{path}"
        );
    }
    // Socket.IO payloads: bodies, client ids, emoji, rooms, documents.
    let mut a = Sio::connect(hub.addr, &alice).await;
    a.join(&room).await;
    let sent = a.say(&room, "ok-1", "fine").await;
    let id = sent["id"].as_str().unwrap().to_owned();
    for (event, data) in [
        (
            "chat:send",
            json!({"room": room, "client_id": "c1", "body": "a\u{0}b"}),
        ),
        (
            "chat:send",
            json!({"room": room, "client_id": "c\u{0}", "body": "ab"}),
        ),
        (
            "chat:react",
            json!({"room": room, "id": id, "emoji": "\u{0}", "add": true}),
        ),
        (
            "chat:edit",
            json!({"room": room, "id": id, "body": "\u{0}"}),
        ),
        ("room:join", json!({"room": "venture:\u{0}"})),
        ("doc:join", json!({"doc": "\u{0}"})),
        (
            "presence:set",
            json!({"room": room, "status": "away", "meta": {"note": "\u{0}"}}),
        ),
    ] {
        a.fails(event, data, "invalid").await;
    }
    // Nothing was stored: the history holds the one good message.
    let page = a.ok("chat:history", json!({ "room": room })).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "{page}");
    // A signed token with a NUL in its name still works; the name is kept without it.
    let token = hub.token_with("nully", Some("Nu\u{0}ll"), hub_protocol::AccountRole::User);
    let (status, me) = hub.get("/api/v1/me", &token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["name"], "Null", "{me}");
    let mut n = Sio::connect(hub.addr, &token).await;
    n.ok("sys:ping", json!({})).await;
    let _ = doc;
    hub.stop().await.unwrap();
}

async fn relays_carry_what_the_document_applied(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    let mut alice = YClient::connect(hub.addr, &doc, Some(&hub.token("alice")))
        .await
        .unwrap();
    alice.recv_prefixed(&[0, 0]).await;
    let mut bob = YClient::connect(hub.addr, &doc, Some(&hub.token("bob")))
        .await
        .unwrap();
    bob.recv_prefixed(&[0, 0]).await;
    let update = text_update(9, "clean");
    let mut padded = update.clone();
    padded.extend_from_slice(&[0xff; 16]);
    // Framed by hand: [0, 2, varUint(len), update + junk].
    let mut frame = vec![0, 2];
    frame.write_buf(&padded);
    alice.send(frame).await;
    let relayed = bob.recv_prefixed(&[0, 2]).await;
    assert_eq!(
        relayed,
        YMessage::Sync(SyncMessage::Update(update)).encode_v1(),
        "relayed as yrs applied it, without the client's extra bytes"
    );
    assert_eq!(text_of(&hub.doc_state(&doc).await), "clean");
    hub.stop().await.unwrap();
}

async fn a_retry_costs_nothing_and_a_viewer_write_is_forbidden(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.chat.rate_per_second = 0.001;
        c.chat.burst = 2;
    })
    .await;
    let (_, room, doc) = venture_with_doc(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let first = alice.say(&room, "m1", "one").await;
    alice.say(&room, "m2", "two").await;
    // The allowance is spent; a retry of m1 still answers with the original.
    for _ in 0..3 {
        let again = alice
            .ok(
                "chat:send",
                json!({"room": room, "client_id": "m1", "body": "one"}),
            )
            .await;
        assert_eq!(again["message"], first);
    }
    alice
        .fails(
            "chat:send",
            json!({"room": room, "client_id": "m3", "body": "three"}),
            "rate_limited",
        )
        .await;

    let mut vic = Sio::connect(hub.addr, &hub.token("vic")).await;
    let joined = vic.ok("doc:join", json!({ "doc": doc })).await;
    assert_eq!(joined["can_write"], false);
    let write = YMessage::Sync(SyncMessage::Update(text_update(4, "nope"))).encode_v1();
    let ack = doc_msg(&mut vic, &doc, write).await;
    assert_eq!(ack["error"]["code"], "forbidden", "{ack}");
    // Awareness is still a viewer's to send.
    let ack = doc_msg(&mut vic, &doc, awareness(8, r#"{"user":"vic"}"#)).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(text_of(&hub.doc_state(&doc).await), "");
    hub.stop().await.unwrap();
}

async fn stock_clients_see_close_codes_and_converge_after_hostile_frames(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (_, _, doc) = venture_with_doc(&hub).await;
    let out = run_node(
        "hostile-yjs.mjs",
        &[
            ("HUB_URL", hub.base.clone()),
            ("DOC", doc.clone()),
            ("TOKEN_ALICE", hub.token("alice")),
            ("TOKEN_BOB", hub.token("bob")),
        ],
    )
    .await;
    assert!(out.contains("hostile-yjs: 3 passed, 0 failed"), "{out}");
    hub.stop().await.unwrap();
}
