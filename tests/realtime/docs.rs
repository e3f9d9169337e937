//! Collaborative documents: REST, the `/yjs` endpoint with stock Yjs clients (node), documents
//! over Socket.IO, persistence across restarts, single loads, limits, on both backends.

use crate::common;

use common::node::run_node;
use common::sio::Sio;
use common::yjs::{YClient, is_empty, text_of, text_update};
use common::{Backend, TestDb, TestHub, WAIT};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    stock_yjs_clients_collaborate,
    documents_follow_room_roles_over_rest,
    a_restarted_hub_serves_the_same_content,
    concurrent_cold_opens_load_once,
    malformed_frames_close_the_socket_and_harm_nothing,
    an_editors_burst_is_relayed_merged_and_logged_whole,
    a_read_batch_of_one_relays_every_frame_alone,
    refusals_happen_before_the_upgrade,
    idle_documents_unload_and_reload_the_same,
    socketio_document_joins_are_checked_and_bounded,
    edits_cross_nodes,
    a_removed_member_loses_open_documents,
);

async fn health(hub: &TestHub) -> Value {
    hub.http
        .get(hub.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn documents_follow_room_roles_over_rest(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.docs.limits.max_update_bytes = 64).await;
    let room = venture_room(&hub).await;
    let (status, _) = hub
        .post(
            "/api/v1/docs",
            &hub.token("vic"),
            json!({"room": room, "title": "x"}),
        )
        .await;
    assert_eq!(status, 403, "viewers do not create");
    let (status, _) = hub
        .post(
            "/api/v1/docs",
            &hub.token("mallory"),
            json!({"room": room, "title": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = hub
        .post(
            "/api/v1/docs",
            &hub.token("bob"),
            json!({"room": "lobby", "title": "x"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("invalid"))
    );
    let (status, created) = hub
        .post(
            "/api/v1/docs",
            &hub.token("bob"),
            json!({"room": room, "title": "Plan"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (created["title"].clone(), created["role"].clone()),
        (json!("Plan"), json!("member"))
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, list) = hub
        .get(&format!("/api/v1/docs?room={room}"), &hub.token("vic"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["docs"][0]["id"], id.as_str());
    assert_eq!(list["docs"][0]["role"], "viewer");
    let (status, _) = hub.get("/api/v1/docs", &hub.token("vic")).await;
    assert_eq!(status, 400);
    let (status, _) = hub
        .get(&format!("/api/v1/docs?room={room}"), &hub.token("mallory"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = hub
        .get(&format!("/api/v1/docs/{id}"), &hub.token("mallory"))
        .await;
    assert_eq!(status, 404);

    assert!(is_empty(&hub.doc_state(&id).await));
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("vic"), text_update(1, "no"))
            .await,
        403
    );
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), vec![0, 200, 3])
            .await,
        422
    );
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), text_update(1, &"x".repeat(100)))
            .await,
        413
    );
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), text_update(1, "hello"))
            .await,
        204
    );
    assert_eq!(text_of(&hub.doc_state(&id).await), "hello");

    let (status, _) = hub
        .delete(&format!("/api/v1/docs/{id}"), &hub.token("bob"))
        .await;
    assert_eq!(status, 403, "members do not delete");
    let (status, _) = hub
        .delete(&format!("/api/v1/docs/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub
        .get(&format!("/api/v1/docs/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(status, 404);
    hub.stop().await.unwrap();
}

async fn a_restarted_hub_serves_the_same_content(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.docs.compact_updates = 3).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Durable").await;
    let mut expected = String::new();
    for (i, word) in ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta "]
        .iter()
        .enumerate()
    {
        assert_eq!(
            hub.post_doc_update(&id, &hub.token("bob"), text_update(100 + i as u64, word))
                .await,
            204
        );
        expected = text_of(&hub.doc_state(&id).await);
    }
    assert_eq!(expected.len(), "alpha beta gamma delta epsilon zeta ".len());
    let hub = hub.restart().await;
    assert_eq!(text_of(&hub.doc_state(&id).await), expected);
    // The log was folded into a snapshot along the way.
    let store = hub::store::Store::connect(&hub.db.url, 1).await.unwrap();
    let stored = store.doc_load(&id).await.unwrap();
    assert!(stored.snapshot.is_some());
    assert!(
        stored.updates.len() < 6,
        "{} updates left in the log",
        stored.updates.len()
    );
    store.close().await;
    hub.stop().await.unwrap();
}

async fn concurrent_cold_opens_load_once(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Cold").await;
    let big: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), text_update(5, &big))
            .await,
        204
    );
    let hub = hub.restart().await;
    assert_eq!(health(&hub).await["services"]["document_loads"], 0);
    let mut opens = Vec::new();
    for _ in 0..10 {
        let (http, url, token) = (
            hub.http.clone(),
            hub.url(&format!("/api/v1/docs/{id}/state")),
            hub.token("alice"),
        );
        opens.push(tokio::spawn(async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }));
    }
    let bob = hub.token("bob");
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(YClient::connect(hub.addr, &id, Some(&bob)));
    }
    for o in opens {
        assert_eq!(text_of(&o.await.unwrap()), big);
    }
    for s in futures_util::future::join_all(sockets).await {
        let mut s = s.expect("connected");
        assert_eq!(
            s.recv_prefixed(&[0, 0]).await[..2],
            [0, 0],
            "sync step 1 first"
        );
    }
    let h = health(&hub).await;
    assert_eq!(h["services"]["document_loads"], 1, "{h}");
    assert_eq!(h["services"]["documents_loaded"], 1);
    hub.stop().await.unwrap();
}

async fn malformed_frames_close_the_socket_and_harm_nothing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Sturdy").await;
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), text_update(5, "intact"))
            .await,
        204
    );
    for garbage in [vec![0, 2, 200, 1, 2], vec![9, 9, 9], vec![0, 7], vec![]] {
        let mut c = YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
            .await
            .unwrap();
        c.recv_prefixed(&[0, 0]).await;
        c.send(garbage.clone()).await;
        assert_eq!(c.closed().await, Some(1003), "{garbage:?}");
    }
    let mut text = YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
        .await
        .unwrap();
    futures_util::SinkExt::send(
        &mut text.ws,
        tokio_tungstenite::tungstenite::Message::text("hello"),
    )
    .await
    .unwrap();
    assert_eq!(text.closed().await, Some(1003));
    assert_eq!(text_of(&hub.doc_state(&id).await), "intact");
    hub.stop().await.unwrap();
}

/// `n` keystrokes of one editor (client `client`) typing the characters of `keys` over and over
/// at the end of its text, as update frames, and the text they make.
fn keystrokes(client: u64, n: usize, keys: &str) -> (Vec<Vec<u8>>, String) {
    use yrs::{Doc, Text, Transact};
    let doc = Doc::with_client_id(client);
    let text = doc.get_or_insert_text("t");
    let mut typed = String::new();
    let frames = (0..n)
        .map(|i| {
            let key = keys.chars().cycle().nth(i).unwrap().to_string();
            typed.push_str(&key);
            let mut txn = doc.transact_mut();
            let at = text.len(&txn);
            text.insert(&mut txn, at, &key);
            hub_rooms::doc::update_frame(&txn.encode_update_v1())
        })
        .collect();
    (frames, typed)
}

/// Writes `frames` in one go: the hub reads them together.
async fn burst(client: &mut YClient, frames: &[Vec<u8>]) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    for f in frames {
        client.ws.feed(Message::binary(f.clone())).await.unwrap();
    }
    client.ws.flush().await.unwrap();
}

/// A new document with vic reading it and bob writing it, both attached (their first frame,
/// the hub's step 1, is read).
async fn reader_and_writer(hub: &TestHub, title: &str) -> (String, YClient, YClient) {
    let room = venture_room(hub).await;
    let id = new_doc(hub, &room, title).await;
    let mut attached = Vec::new();
    for user in ["vic", "bob"] {
        let mut c = YClient::connect(hub.addr, &id, Some(&hub.token(user)))
            .await
            .unwrap();
        c.recv_prefixed(&[0, 0]).await;
        attached.push(c);
    }
    let writer = attached.pop().unwrap();
    let reader = attached.pop().unwrap();
    (id, reader, writer)
}

async fn an_editors_burst_is_relayed_merged_and_logged_whole(backend: Backend) {
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, Transact, Update};
    let hub = TestHub::start(backend).await;
    let (id, mut reader, mut writer) = reader_and_writer(&hub, "Burst").await;
    let (keys, typed) = keystrokes(9, 300, "0123456789");
    burst(&mut writer, &keys).await;

    // The reader gets every keystroke, in order, in fewer frames than were typed.
    let replica = Doc::new();
    let text = replica.get_or_insert_text("t");
    let mut frames = 0;
    while text.get_string(&replica.transact()) != typed {
        let update = reader.recv_prefixed(&[0, 2]).await;
        let Ok(Message::Sync(SyncMessage::Update(u))) = Message::decode_v1(&update) else {
            panic!("not an update frame: {update:?}");
        };
        replica
            .transact_mut()
            .apply_update(Update::decode_v1(&u).unwrap())
            .unwrap();
        frames += 1;
        assert!(frames <= keys.len(), "more frames than keystrokes");
    }
    assert!(
        frames < keys.len(),
        "{frames} frames for {} keystrokes",
        keys.len()
    );

    // A refused frame in a burst: what came before it stands, what came after it does not.
    let mut careless = YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
        .await
        .unwrap();
    careless.recv_prefixed(&[0, 0]).await;
    let (more, more_typed) = keystrokes(10, 3, "xyz");
    burst(
        &mut careless,
        &[
            more[0].clone(),
            more[1].clone(),
            vec![0, 2, 200],
            more[2].clone(),
        ],
    )
    .await;
    assert_eq!(careless.closed().await, Some(1003));
    let after = text_of(&hub.doc_state(&id).await);
    assert_eq!(after.len(), typed.len() + 2, "{after}");
    assert!(after.contains("xy") && !after.contains('z'), "{after}");
    assert_eq!(more_typed, "xyz");

    // The log holds all of it, in fewer rows than frames.
    let hub = hub.restart().await;
    assert_eq!(text_of(&hub.doc_state(&id).await), after);
    let store = hub::store::Store::connect(&hub.db.url, 1).await.unwrap();
    let stored = store.doc_load(&id).await.unwrap();
    assert!(stored.snapshot.is_none());
    assert!(
        stored.updates.len() < keys.len(),
        "{} log rows for {} frames",
        stored.updates.len(),
        keys.len()
    );
    store.close().await;
    hub.stop().await.unwrap();
}

async fn a_read_batch_of_one_relays_every_frame_alone(backend: Backend) {
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    let hub = TestHub::start_with(backend, |c| c.docs.read_batch = 1).await;
    let (id, mut reader, mut writer) = reader_and_writer(&hub, "One by one").await;
    let (keys, typed) = keystrokes(9, 40, "abcd");
    burst(&mut writer, &keys).await;
    // One relayed update per keystroke, each exactly what that keystroke added.
    for (i, key) in keys.iter().enumerate() {
        let update = reader.recv_prefixed(&[0, 2]).await;
        let Ok(Message::Sync(SyncMessage::Update(got))) = Message::decode_v1(&update) else {
            panic!("not an update frame: {update:?}");
        };
        let Ok(Message::Sync(SyncMessage::Update(sent))) = Message::decode_v1(key) else {
            unreachable!()
        };
        assert_eq!(
            yrs::Update::decode_v1(&got).unwrap().state_vector(),
            yrs::Update::decode_v1(&sent).unwrap().state_vector(),
            "keystroke {i}"
        );
    }
    assert_eq!(text_of(&hub.doc_state(&id).await), typed);
    hub.stop().await.unwrap();
}

async fn refusals_happen_before_the_upgrade(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Private").await;
    assert_eq!(YClient::connect(hub.addr, &id, None).await.err(), Some(401));
    assert_eq!(
        YClient::connect(hub.addr, &id, Some("forged")).await.err(),
        Some(401)
    );
    assert_eq!(
        YClient::connect(hub.addr, &id, Some(&hub.token("mallory")))
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        YClient::connect(hub.addr, "no-such-doc", Some(&hub.token("alice")))
            .await
            .err(),
        Some(404)
    );
    assert!(
        YClient::connect(hub.addr, &id, Some(&hub.token("vic")))
            .await
            .is_ok(),
        "viewers read"
    );
    hub.stop().await.unwrap();
}

async fn idle_documents_unload_and_reload_the_same(backend: Backend) {
    let hub =
        TestHub::start_with(backend, |c| c.docs.idle_unload = Duration::from_millis(100)).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Idle").await;
    let mut c = YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
        .await
        .unwrap();
    c.recv_prefixed(&[0, 0]).await;
    assert_eq!(
        hub.post_doc_update(&id, &hub.token("bob"), text_update(5, "kept"))
            .await,
        204
    );
    assert_eq!(
        c.recv_prefixed(&[0, 2]).await,
        hub_rooms::doc::update_frame(&text_update(5, "kept"))
    );
    drop(c);
    let deadline = tokio::time::Instant::now() + WAIT;
    while health(&hub).await["services"]["documents_loaded"] != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the document never unloaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(text_of(&hub.doc_state(&id).await), "kept");
    assert_eq!(health(&hub).await["services"]["document_loads"], 2);
    hub.stop().await.unwrap();
}

async fn socketio_document_joins_are_checked_and_bounded(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.docs.max_docs_per_socket = 2).await;
    let room = venture_room(&hub).await;
    let a = new_doc(&hub, &room, "A").await;
    let b = new_doc(&hub, &room, "B").await;
    let c = new_doc(&hub, &room, "C").await;
    let mut vic = Sio::connect(hub.addr, &hub.token("vic")).await;
    let joined = vic.ok("doc:join", json!({"doc": a})).await;
    assert_eq!(
        (joined["role"].clone(), joined["can_write"].clone()),
        (json!("viewer"), json!(false))
    );
    assert_eq!(
        vic.ok("doc:join", json!({"doc": a})).await["doc"],
        a.as_str(),
        "joining twice is harmless"
    );
    vic.ok("doc:join", json!({"doc": b})).await;
    vic.fails("doc:join", json!({"doc": c}), "too_large").await;
    vic.ok("doc:leave", json!({"doc": b})).await;
    vic.ok("doc:join", json!({"doc": c})).await;
    vic.fails("doc:join", json!({"doc": "nope"}), "not_found")
        .await;
    vic.fails("doc:join", json!({"id": a}), "invalid").await;
    let mut mallory = Sio::connect(hub.addr, &hub.token("mallory")).await;
    mallory
        .fails("doc:join", json!({"doc": a}), "not_found")
        .await;
    hub.stop().await.unwrap();
}

async fn edits_cross_nodes(backend: Backend) {
    // Two nodes on one in-process bus.
    let bus = hub::bus::LocalBus::new();
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let on_bus = || hub::Runtime {
        bus: Some(std::sync::Arc::new(bus.node()) as std::sync::Arc<dyn hub::bus::Bus>),
        ..hub::Runtime::default()
    };
    let a = TestHub::start_in(db, on_bus(), |_| {}).await;
    let b = TestHub::start_in(shared, on_bus(), |_| {}).await;
    edits_cross(a, b).await;
}

/// The same over the real Redis, on channels of this test's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_cross_nodes_over_redis() {
    let db = TestDb::new(Backend::Postgres).await;
    let shared = db.shared();
    let prefix = format!("test-{}:", uuid::Uuid::now_v7());
    let url =
        std::env::var("HUB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let (p1, u1) = (prefix.clone(), url.clone());
    let a = TestHub::start_on(db, move |c| {
        c.redis_url = Some(u1);
        c.redis_prefix = p1;
    })
    .await;
    let b = TestHub::start_on(shared, move |c| {
        c.redis_url = Some(url);
        c.redis_prefix = prefix;
    })
    .await;
    edits_cross(a, b).await;
}

async fn edits_cross(a: TestHub, b: TestHub) {
    let room = venture_room(&a).await;
    let id = new_doc(&a, &room, "Shared").await;
    let mut on_a = YClient::connect(a.addr, &id, Some(&a.token("alice")))
        .await
        .unwrap();
    on_a.recv_prefixed(&[0, 0]).await;
    let mut on_b = YClient::connect(b.addr, &id, Some(&b.token("bob")))
        .await
        .unwrap();
    on_b.recv_prefixed(&[0, 0]).await;
    on_b.send(hub_rooms::doc::update_frame(&text_update(9, "from b")))
        .await;
    let relayed = on_a.recv_prefixed(&[0, 2]).await;
    let frame = hub_rooms::doc::update_frame(&text_update(9, "from b"));
    assert_eq!(relayed, frame, "node a relays node b's update as is");
    assert_eq!(text_of(&a.doc_state(&id).await), "from b");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

async fn a_removed_member_loses_open_documents(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let id = new_doc(&hub, &room, "Members only").await;
    let mut bob = YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
        .await
        .unwrap();
    bob.recv_prefixed(&[0, 0]).await;
    let venture = room.trim_start_matches("venture:");
    let (status, _) = hub
        .delete(
            &format!("/api/v1/ventures/{venture}/members/bob"),
            &hub.token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(bob.closed().await, Some(4403));
    assert_eq!(
        YClient::connect(hub.addr, &id, Some(&hub.token("bob")))
            .await
            .err(),
        Some(404)
    );
    hub.stop().await.unwrap();
}

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
    // What the stock clients wrote is persisted: a restarted hub serves the same documents.
    let mut before = Vec::new();
    for doc in &docs {
        before.push(text_of(&hub.doc_state(doc).await));
    }
    assert!(
        before.iter().filter(|t| !t.is_empty()).count() >= 4,
        "{before:?}"
    );
    let hub = hub.restart().await;
    for (doc, text) in docs.iter().zip(&before) {
        assert_eq!(&text_of(&hub.doc_state(doc).await), text);
    }
    hub.stop().await.unwrap();
}
