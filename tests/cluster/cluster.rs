//! A real cluster: `hub` processes on loopback ports, one fresh Postgres schema, Redis (the
//! machine's, on channels of each test's own, or a private server the test stops and starts),
//! and clients spread over the nodes; then the failures: a node killed with SIGKILL, Redis
//! restarted.

use crate::common;

use common::redis::{PrivateRedis, free_port, prefix, redis_url};
use common::sio::Sio;
use common::yjs::{YClient, text_of, text_update};
use common::{Backend, SECRET, TestDb, TestHub, WAIT};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use yrs::StateVector;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;

/// Heartbeats every 200 ms, a node taken for dead after 1 s of silence, a 500 ms grace.
const HEARTBEAT_MS: u64 = 200;
const NODE_TIMEOUT_MS: u64 = 1_000;
const GRACE_MS: u64 = 500;

/// One `hub` process.
pub(crate) struct Node {
    pub(crate) hub: TestHub,
    child: Child,
    _data: tempfile::TempDir,
}

impl Node {
    pub(crate) async fn start(db: &TestDb, redis: &str, prefix: &str) -> Node {
        let data = tempfile::tempdir().unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_hub"))
            .env("DATABASE_URL", &db.url)
            .env("REDIS_URL", redis)
            .env("HUB_REDIS_PREFIX", prefix)
            .env("JWT_SECRET", SECRET)
            .env("DATA_DIR", data.path())
            .env("HUB_ADDR", addr.to_string())
            .env("HUB_HEARTBEAT", format!("{HEARTBEAT_MS}ms"))
            .env("HUB_NODE_TIMEOUT", format!("{NODE_TIMEOUT_MS}ms"))
            .env("HUB_PRESENCE_GRACE", format!("{GRACE_MS}ms"))
            .env("HUB_CHAT_RATE", "1000")
            .env("HUB_REST_RATE_USER", "1000000/1s")
            .env("HUB_MAX_CONNS_PER_IP", "0")
            .env("HUB_HANDSHAKE_RATE_IP", "off")
            .env("HUB_CHAT_BURST", "1000")
            // Tasks credit BUZ at once (the gates have their own tests).
            .env("HUB_BUZ_REQUIRE_KYC", "false")
            .env("HUB_BUZ_MIN_REPUTATION", "0")
            // A stopping node hands its connections back at once (the drain has its own tests).
            .env("HUB_DRAIN_SECONDS", "0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the hub binary runs");
        let hub = TestHub::external(addr, db.shared()).await;
        Node {
            hub,
            child,
            _data: data,
        }
    }

    /// SIGKILL: no goodbye, no cleanup.
    async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }

    async fn health(&self) -> Value {
        self.hub
            .http
            .get(self.hub.url("/api/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub(crate) struct Cluster {
    pub(crate) db: TestDb,
    pub(crate) nodes: Vec<Node>,
    pub(crate) room: String,
    /// The nodes' Redis channel prefix.
    pub(crate) prefix: String,
}

impl Cluster {
    pub(crate) async fn start(n: usize, redis: &str) -> Cluster {
        let db = TestDb::new(Backend::Postgres).await;
        // The schema exists before the nodes race to migrate it.
        hub::store::Store::connect(&db.url, 1)
            .await
            .unwrap()
            .migrate()
            .await
            .unwrap();
        let prefix = prefix();
        let mut nodes = Vec::new();
        for _ in 0..n {
            nodes.push(Node::start(&db, redis, &prefix).await);
        }
        let first = &nodes[0].hub;
        let venture = first.venture("alice", "Acme").await;
        for user in ["bob", "carol", "dave"] {
            first.add_member(&venture, "alice", user, "member").await;
        }
        Cluster {
            db,
            nodes,
            room: format!("venture:{venture}"),
            prefix,
        }
    }

    pub(crate) fn hub(&self, i: usize) -> &TestHub {
        &self.nodes[i].hub
    }

    pub(crate) async fn sio(&self, node: usize, user: &str) -> Sio {
        Sio::connect(self.hub(node).addr, &self.hub(node).token(user)).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.start_kill();
        }
    }
}

/// Eight connections keep eight sends each in flight on node 0, so the sends share group
/// commits; node 0 is killed with SIGKILL in the middle. Node 1 then has every acked message,
/// once, with its acked id and seq, and gap-free seqs; the sends that were in flight, retried
/// there under their client_ids, are stored at most once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_sends_survive_a_sigkill_in_the_middle_of_group_commits() {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::{Arc, Mutex};
    let mut cluster = Cluster::start(2, &redis_url()).await;
    let room = cluster.room.clone();
    // (user, client_id) -> (id, seq), as acked.
    let acked: Arc<Mutex<BTreeMap<(String, String), (String, i64)>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<(String, String)>>> = Arc::default();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let user = ["alice", "bob", "carol", "dave"][n % 4];
        let mut c = cluster.sio(0, user).await;
        c.join(&room).await;
        let (room, acked, sent) = (room.clone(), acked.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut in_flight: BTreeMap<u64, String> = BTreeMap::new();
            for i in 0.. {
                let client_id = format!("k{n}-{i}");
                sent.lock()
                    .unwrap()
                    .insert((user.to_owned(), client_id.clone()));
                let data =
                    json!({"room": room, "client_id": client_id, "body": format!("m {n} {i}")});
                let id = c.emit("chat:send", data).await;
                in_flight.insert(id, client_id);
                while in_flight.len() >= 8 {
                    // Ends by panicking when the node dies under it.
                    let (id, ack) = c.next_ack().await;
                    if let Some(client_id) = in_flight.remove(&id) {
                        assert_eq!(ack["ok"], true, "{ack}");
                        let m = &ack["message"];
                        acked.lock().unwrap().insert(
                            (user.to_owned(), client_id),
                            (
                                m["id"].as_str().unwrap().to_owned(),
                                m["seq"].as_i64().unwrap(),
                            ),
                        );
                    }
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cluster.nodes[0].kill().await;
    for t in tasks {
        assert!(t.await.is_err(), "a sender ends with its connection");
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    async fn history(reader: &mut Sio, room: &str) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let after = all
                .last()
                .map(|m: &Value| m["seq"].as_i64().unwrap())
                .unwrap_or(0);
            let page = reader
                .ok(
                    "chat:history",
                    json!({"room": room, "after": after, "limit": 100}),
                )
                .await;
            let messages = page["messages"].as_array().unwrap().clone();
            if messages.is_empty() {
                return all;
            }
            all.extend(messages);
        }
    }
    let mut reader = cluster.sio(1, "alice").await;
    reader.join(&room).await;
    let stored = history(&mut reader, &room).await;
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
    let by_key: BTreeMap<(String, String), (String, i64)> = stored
        .iter()
        .map(|m| {
            (
                (
                    m["author_id"].as_str().unwrap().to_owned(),
                    m["client_id"].as_str().unwrap().to_owned(),
                ),
                (
                    m["id"].as_str().unwrap().to_owned(),
                    m["seq"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(by_key.len(), stored.len(), "each send stored once");
    for (key, ack) in &acked {
        assert_eq!(
            by_key.get(key),
            Some(ack),
            "acked {key:?} is stored as acked"
        );
    }
    // The sends whose ack the kill lost: retried on node 1, each is stored once at most.
    let lost: Vec<&(String, String)> = sent.iter().filter(|k| !acked.contains_key(*k)).collect();
    assert!(!lost.is_empty(), "the kill caught sends in flight");
    let mut retried = 0;
    for user in ["alice", "bob", "carol", "dave"] {
        let mut c = cluster.sio(1, user).await;
        c.join(&room).await;
        for (_, client_id) in lost.iter().filter(|(u, _)| u == user) {
            let m = c.say(&room, client_id, "again").await;
            if let Some(before) = by_key.get(&(user.to_owned(), client_id.clone())) {
                assert_eq!(
                    (m["id"].as_str().unwrap(), m["seq"].as_i64().unwrap()),
                    (before.0.as_str(), before.1)
                );
            }
            retried += 1;
        }
    }
    assert_eq!(retried, lost.len());
    let after = history(&mut reader, &room).await;
    let seqs: Vec<i64> = after.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "still gap-free"
    );
    assert_eq!(after.len(), sent.len(), "every send stored exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_clients_spread_over_three_nodes() {
    let cluster = Cluster::start(3, &redis_url()).await;
    stock_clients_share_everything(&cluster).await;
    cluster.db.drop_schema().await;
}

/// Stock `socket.io-client` users and y-websocket editors spread over the nodes see each other's
/// presence, typing, chat and edits; a member removed through one node is evicted on another.
pub(crate) async fn stock_clients_share_everything(cluster: &Cluster) {
    let (status, doc) = cluster
        .hub(1)
        .post(
            "/api/v1/docs",
            &cluster.hub(1).token("alice"),
            json!({"room": cluster.room, "title": "Shared"}),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    let urls: Vec<String> = cluster.nodes.iter().map(|n| n.hub.base.clone()).collect();
    let out = common::node::run_node(
        "cluster-scenario.mjs",
        &[
            ("HUB_URLS", urls.join(",")),
            ("ROOM", cluster.room.clone()),
            ("DOC", doc["id"].as_str().unwrap().to_owned()),
            ("TOKEN_ALICE", cluster.hub(0).token("alice")),
            ("TOKEN_BOB", cluster.hub(0).token("bob")),
            ("TOKEN_CAROL", cluster.hub(0).token("carol")),
        ],
    )
    .await;
    assert!(out.contains("cluster scenario ok"), "{out}");
    // A member removed through one node is evicted on the others at once.
    let mut dave = cluster.sio(2, "dave").await;
    dave.join(&cluster.room).await;
    let venture = cluster.room.trim_start_matches("venture:");
    let (status, _) = cluster
        .hub(0)
        .delete(
            &format!("/api/v1/ventures/{venture}/members/dave"),
            &cluster.hub(0).token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(dave.event("room:removed").await["room"], cluster.room);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_no_ghost_and_its_users_recover_on_another() {
    let mut cluster = Cluster::start(3, &redis_url()).await;
    let room = cluster.room.clone();
    let mut alice = cluster.sio(0, "alice").await;
    alice.join(&room).await;
    let mut bob = cluster.sio(1, "bob").await;
    bob.join(&room).await;
    assert_eq!(alice.event("presence:join").await["user"]["user_id"], "bob");
    // Bob also edits a document through node 1.
    let (status, doc) = cluster
        .hub(0)
        .post(
            "/api/v1/docs",
            &cluster.hub(0).token("alice"),
            json!({"room": room, "title": "Plan"}),
        )
        .await;
    assert_eq!(status, 201);
    let doc = doc["id"].as_str().unwrap().to_owned();
    let mut bob_editor = YClient::connect(
        cluster.hub(1).addr,
        &doc,
        Some(&cluster.hub(1).token("bob")),
    )
    .await
    .unwrap();
    bob_editor.recv_prefixed(&[0, 0]).await;
    let first = bob.say(&room, "b-1", "before the crash").await;
    assert_eq!(first["seq"], 1);
    assert_eq!(alice.event("chat:message").await["seq"], 1);

    cluster.nodes[1].kill().await;
    let started = tokio::time::Instant::now();
    assert_eq!(
        alice.event("presence:leave").await,
        json!({"room": room, "user_id": "bob"})
    );
    // Noticed by silence, then the grace: within the node timeout + grace (+ a tick).
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(NODE_TIMEOUT_MS + GRACE_MS + 2_000),
        "the leave took {took:?}"
    );
    // Announced once.
    tokio::time::sleep(Duration::from_millis(NODE_TIMEOUT_MS)).await;
    assert!(alice.received("presence:leave").await.is_empty());
    for i in 2..=4 {
        alice
            .say(&room, &format!("a-{i}"), "while bob is away")
            .await;
    }
    let edit = text_update(5, "edited while bob was away");
    let token = cluster.hub(0).token("alice");
    assert_eq!(
        cluster.hub(0).post_doc_update(&doc, &token, edit).await,
        204
    );
    drop(bob_editor);
    // Bob's editor reconnects to another node and syncs from its state vector (empty here):
    // the answer holds the edit it missed.
    let mut bob_editor = YClient::connect(
        cluster.hub(2).addr,
        &doc,
        Some(&cluster.hub(2).token("bob")),
    )
    .await
    .unwrap();
    bob_editor.recv_prefixed(&[0, 0]).await;
    let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default()));
    bob_editor.send(hub_rooms::doc::encode(&step1)).await;
    let answer = bob_editor.recv_prefixed(&[0, 1]).await;
    match Message::decode_v1(&answer).unwrap() {
        Message::Sync(SyncMessage::SyncStep2(update)) => {
            assert_eq!(text_of(&update), "edited while bob was away")
        }
        other => panic!("{other:?}"),
    }

    // Bob's client reconnects to another node and gets exactly what it missed.
    drop(bob);
    let mut bob = cluster.sio(2, "bob").await;
    let joined = bob.ok("room:join", json!({"room": room, "since": 1})).await;
    let missed: Vec<i64> = joined["missed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(missed, vec![2, 3, 4]);
    assert_eq!(joined["recovered"], true);
    let present: Vec<&str> = joined["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        present.len(),
        2,
        "alice and the reconnected bob, no ghost: {present:?}"
    );
    // The retry of a send acknowledged before the crash stores nothing new.
    let again = bob.say(&room, "b-1", "before the crash").await;
    assert_eq!(again["seq"], 1);
    let history = bob
        .ok("chat:history", json!({"room": room, "limit": 50}))
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 4);
    cluster.db.drop_schema().await;
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_pauses_cross_node_traffic_only_and_everything_converges() {
    let mut redis = PrivateRedis::start(free_port()).await;
    let url = redis.url();
    let cluster = Cluster::start(2, &url).await;
    let room = cluster.room.clone();
    let (status, doc) = cluster
        .hub(0)
        .post(
            "/api/v1/docs",
            &cluster.hub(0).token("alice"),
            json!({"room": room, "title": "Through the outage"}),
        )
        .await;
    assert_eq!(status, 201);
    let doc = doc["id"].as_str().unwrap().to_owned();
    let mut alice = cluster.sio(0, "alice").await;
    alice.join(&room).await;
    let mut dave = cluster.sio(0, "dave").await;
    dave.join(&room).await;
    let mut bob = cluster.sio(1, "bob").await;
    bob.join(&room).await;
    // Both nodes hold the document.
    cluster.hub(0).doc_state(&doc).await;
    cluster.hub(1).doc_state(&doc).await;
    alice
        .event_where("presence:join", |e| e["user"]["user_id"] == "bob")
        .await;

    redis.stop();
    for node in &cluster.nodes {
        until("degraded", async || {
            node.health().await["status"] == "degraded"
        })
        .await;
    }
    let health = cluster.nodes[0].health().await;
    assert!(
        health["redis"].as_str().unwrap().starts_with("error"),
        "{health}"
    );
    // Local traffic flows: dave, on alice's node, hears her at once.
    let sent = alice.say(&room, "a-1", "during the outage").await;
    assert_eq!(dave.event("chat:message").await["id"], sent["id"]);
    // Carol joins on the other node meanwhile; an edit lands on node 0.
    let mut carol = cluster.sio(1, "carol").await;
    carol.join(&room).await;
    let edit = common::yjs::text_update(7, "written during the outage");
    assert_eq!(
        cluster
            .hub(0)
            .post_doc_update(&doc, &cluster.hub(0).token("alice"), edit)
            .await,
        204
    );

    let _back = PrivateRedis::start(redis.port).await;
    for node in &cluster.nodes {
        until("healthy again", async || {
            node.health().await["status"] == "healthy"
        })
        .await;
    }
    // Presence converges: node 0 learns of carol, who joined on node 1 during the outage.
    until("carol present on node 0", async || {
        let joined = alice.join(&room).await;
        joined["presence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["user_id"] == "carol")
    })
    .await;
    // The document converges: node 1 re-read the log.
    until("the edit reached node 1", async || {
        common::yjs::text_of(&cluster.hub(1).doc_state(&doc).await) == "written during the outage"
    })
    .await;
    // Bob missed the message live; his client repairs by seq.
    let page = bob
        .ok("chat:history", json!({"room": room, "after": 0}))
        .await;
    assert_eq!(page["messages"][0]["id"], sent["id"]);
    // And cross-node traffic flows again.
    let after = alice.say(&room, "a-2", "after the outage").await;
    let heard = bob
        .event_where("chat:message", |m| m["id"] == after["id"])
        .await;
    assert_eq!(heard["seq"], 2);
    cluster.db.drop_schema().await;
}

/// A counter of `/metrics` (Prometheus text): the sum of the series of `name` whose labels
/// contain `labels`.
async fn metric(hub: &TestHub, name: &str, labels: &str) -> f64 {
    let text = hub
        .http
        .get(hub.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Interest-based routing: four nodes, four rooms, each room's members on one node. Each node
/// hears its own room's deliveries and no other's: a quarter of what the nodes published
/// together (where, with one channel for all, every node heard all of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_of_four_nodes_hears_only_the_rooms_it_serves() {
    let cluster = Cluster::start(4, &redis_url()).await;
    let mut rooms = Vec::new();
    for i in 0..4 {
        let owner = format!("owner{i}");
        let venture = cluster.hub(0).venture(&owner, &format!("Room {i}")).await;
        cluster
            .hub(0)
            .add_member(&venture, &owner, &format!("member{i}"), "member")
            .await;
        rooms.push((format!("venture:{venture}"), owner, format!("member{i}")));
    }
    let mut clients = Vec::new();
    for (i, (room, owner, member)) in rooms.iter().enumerate() {
        let mut a = cluster.sio(i, owner).await;
        a.join(room).await;
        let mut b = cluster.sio(i, member).await;
        b.join(room).await;
        clients.push((a, b));
    }
    let notify_in = async |i: usize| {
        metric(
            cluster.hub(i),
            "hub_bus_messages_in_total",
            "kind=\"notify\"",
        )
        .await
    };
    let notify_out = async |i: usize| {
        metric(
            cluster.hub(i),
            "hub_bus_messages_out_total",
            "kind=\"notify\"",
        )
        .await
    };
    let mut before = Vec::new();
    for i in 0..4 {
        before.push((notify_in(i).await, notify_out(i).await));
    }
    const SENDS: usize = 25;
    for (i, (a, b)) in clients.iter_mut().enumerate() {
        let room = &rooms[i].0;
        for k in 0..SENDS {
            a.say(room, &format!("a{k}"), "from a").await;
            b.say(room, &format!("b{k}"), "from b").await;
        }
    }
    // Every delivery arrived: each member heard the other's messages (a sender's own socket
    // has its ack instead).
    for (a, b) in clients.iter_mut() {
        for c in [a, b] {
            for _ in 0..SENDS {
                c.event("chat:message").await;
            }
        }
    }
    let mut heard = Vec::new();
    let mut published = 0.0;
    for (i, (in0, out0)) in before.iter().enumerate() {
        heard.push(notify_in(i).await - in0);
        published += notify_out(i).await - out0;
    }
    assert!(
        published >= (4 * 2 * SENDS) as f64,
        "every message was published once: {published}"
    );
    for (i, h) in heard.iter().enumerate() {
        let quarter = published / 4.0;
        assert!(
            (*h - quarter).abs() <= quarter * 0.1 + 2.0,
            "node {i} heard {h} of the {published} published (a quarter is {quarter}): {heard:?}"
        );
    }
    cluster.db.drop_schema().await;
}
