//! Webhooks out, with a Node receiver that verifies every delivery with the stock
//! `standardwebhooks` package: domain events reach it signed and in order; a receiver that
//! fails for a while gets them later; a delivery given up is replayed; a hub killed with
//! SIGKILL mid-delivery loses nothing (the delivery comes again with the same `webhook-id`);
//! two nodes deliver each event once.

use crate::cluster_local::{Fabric, node_with};
use crate::common;

use common::node::node_server;
use common::redis::free_port;
use common::sio::Sio;
use common::{Backend, SECRET, TestDb, TestHub, WAIT};
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

crate::on_every_bus!(
    deliveries_are_signed_in_order_retried_and_replayed,
    two_nodes_deliver_each_event_once,
);

/// The Node receiver: its process and where it listens.
struct Receiver {
    _child: Child,
    base: String,
    http: reqwest::Client,
}

impl Receiver {
    async fn start() -> Receiver {
        let (child, base) = node_server(
            "webhook-receiver.mjs",
            &[("WEBHOOK_SECRET", HOOK_SECRET.into())],
        )
        .await;
        Receiver {
            _child: child,
            base,
            http: common::http_client(),
        }
    }

    fn hook_url(&self) -> String {
        format!("{}/hook", self.base)
    }

    /// Answers the next deliveries with `status`, after `delay_ms`.
    async fn answer(&self, status: u16, delay_ms: u64) {
        self.http
            .post(format!("{}/_mode", self.base))
            .json(&json!({"status": status, "delay_ms": delay_ms}))
            .send()
            .await
            .unwrap();
    }

    /// What the receiver holds: `{received, refused, arrived}`.
    async fn snapshot(&self) -> Value {
        self.http
            .get(format!("{}/_received", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every verified delivery so far; fails on any that did not verify.
    async fn received(&self) -> Vec<Value> {
        let all = self.snapshot().await;
        assert_eq!(all["refused"], json!([]), "deliveries that did not verify");
        all["received"].as_array().unwrap().clone()
    }

    /// Waits until `n` requests arrived (answered or not yet).
    async fn until_arrived(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let all = self.snapshot().await;
            if all["arrived"].as_array().unwrap().len() >= n {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "nothing arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `pred` holds of what was received.
    async fn until(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT * 3;
        loop {
            let got = self.received().await;
            if pred(&got) {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; received {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The first delivery of each `webhook-id`, in arrival order, answered 2xx.
fn delivered(got: &[Value]) -> Vec<&Value> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for d in got {
        let id = d["id"].as_str().unwrap();
        if d["answered"].as_u64().is_some_and(|s| s < 300) && !seen.contains(&id) {
            seen.push(id);
            out.push(d);
        }
    }
    out
}

fn types(got: &[&Value]) -> Vec<String> {
    got.iter()
        .map(|d| d["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Registers the receiver for `events` as an admin on `hub`; returns the endpoint's id.
async fn register(hub: &TestHub, url: &str, events: &[&str]) -> String {
    let admin = hub.token_with("root", None, AccountRole::Admin);
    let (status, made) = hub
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": url, "events": events, "secret": HOOK_SECRET, "description": "tests"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["secret"], HOOK_SECRET);
    made["webhook"]["id"].as_str().unwrap().to_owned()
}

/// Fast retries, few tries, private targets allowed (the receiver is on loopback).
fn quick(c: &mut hub::Config) {
    c.webhooks.allow_private = true;
    c.webhooks.retry_base = Duration::from_millis(50);
    c.webhooks.retry_max = Duration::from_millis(200);
    c.webhooks.max_attempts = 4;
    c.webhooks.poll = Duration::from_millis(50);
    c.webhooks.timeout = Duration::from_secs(2);
    c.webhooks.lease = Duration::from_secs(3);
    common::lax_buz(c);
}

fn task(id: &str, user: &str) -> Value {
    json!({"task_id": id, "user_id": user, "tier": "C", "quality": 1.0, "reviewer_trust": 100})
}

async fn deliveries_are_signed_in_order_retried_and_replayed(backend: Backend, redis: bool) {
    let receiver = Receiver::start().await;
    let hub = node_with(TestDb::new(backend).await, &Fabric::new(redis), quick).await;
    let admin = hub.token_with("root", None, AccountRole::Admin);
    let hook = register(&hub, &receiver.hook_url(), &["*"]).await;

    // Domain events: a membership by invitation, a task credited, a badge, a chat message.
    let venture = hub.venture("alice", "Acme").await;
    hub.add_member(&venture, "alice", "bob", "member").await;
    let system = hub.token_with("platform", None, AccountRole::System);
    let (status, _) = hub
        .post("/api/v1/events/task/accepted", &system, task("t-1", "bob"))
        .await;
    assert_eq!(status, 201);
    let (status, badge) = hub
        .post(
            "/api/v1/badges",
            &admin,
            json!({"code": "helper", "name": "Helper", "rule": {"type": "MANUAL"}}),
        )
        .await;
    assert_eq!(status, 201, "{badge}");
    let (status, _) = hub
        .post(
            "/api/v1/badges/helper/award",
            &admin,
            json!({"user_id": "bob"}),
        )
        .await;
    assert!([200, 201].contains(&status));
    let room = format!("venture:{venture}");
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    let said = bob.say(&room, "c-1", "hello hooks").await;

    let got = receiver
        .until("the chat message", |got| {
            got.iter().any(|d| d["type"] == "chat.message")
        })
        .await;
    let got = delivered(&got);
    let seen = types(&got);
    for expected in [
        "member.invited",
        "member.joined",
        "task.credited",
        "badge.awarded",
        "chat.message",
    ] {
        assert!(
            seen.contains(&expected.to_owned()),
            "{expected} missing: {seen:?}"
        );
    }
    // In the order the changes happened.
    let at = |t: &str| seen.iter().position(|s| s == t).unwrap();
    assert!(at("member.invited") < at("member.joined"), "{seen:?}");
    assert!(at("member.joined") < at("task.credited"), "{seen:?}");
    assert!(at("badge.awarded") < at("chat.message"), "{seen:?}");
    let chat = got.iter().find(|d| d["type"] == "chat.message").unwrap();
    assert_eq!(chat["data"], said, "the message as its room saw it");
    let invited = got.iter().find(|d| d["type"] == "member.invited").unwrap();
    assert_eq!(
        (&invited["data"]["user_id"], &invited["data"]["invited_by"]),
        (&json!("bob"), &json!("alice"))
    );

    // A receiver failing for a while: the delivery waits at the head of the queue, tried
    // again with the same webhook-id, and what follows it waits behind it.
    receiver.answer(500, 0).await;
    let before = receiver.received().await.len();
    hub.add_member(&venture, "alice", "carol", "member").await;
    let failing = receiver
        .until("two failed tries", |got| {
            got[before..]
                .iter()
                .filter(|d| d["answered"] == 500)
                .count()
                >= 2
        })
        .await;
    let retried = failing[before]["id"].as_str().unwrap().to_owned();
    assert!(
        failing[before..]
            .iter()
            .all(|d| d["id"] == retried.as_str()),
        "nothing passes the failing head: {:#?}",
        &failing[before..]
    );
    receiver.answer(200, 0).await;
    let got = receiver
        .until("carol's joining", |got| {
            delivered(got)
                .iter()
                .any(|d| d["type"] == "member.joined" && d["data"]["user_id"] == "carol")
        })
        .await;
    let after: Vec<&Value> = delivered(&got[before..]);
    assert_eq!(types(&after), ["member.invited", "member.joined"]);
    assert_eq!(after[0]["id"], retried.as_str());
    // The hub records tries once it has sent what it could: the state follows the receipt.
    let log = wait_for(|| async {
        let (status, log) = hub
            .get(&format!("/api/v1/webhook-deliveries/{retried}"), &admin)
            .await;
        assert_eq!(status, 200, "{log}");
        (log["delivery"]["state"] == "delivered").then_some(log)
    })
    .await;
    let statuses: Vec<Value> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert!(statuses.len() >= 3, "{log}");
    assert_eq!(statuses.last(), Some(&json!(200)));
    assert!(
        statuses[..statuses.len() - 1].iter().all(|s| s == 500),
        "{log}"
    );

    // Given up after four tries: dead, then replayed by hand and delivered.
    receiver.answer(503, 0).await;
    hub.post("/api/v1/events/task/accepted", &system, task("t-2", "bob"))
        .await;
    let dead = wait_for(|| async {
        let (_, list) = hub
            .get(
                &format!("/api/v1/webhooks/{hook}/deliveries?state=dead"),
                &admin,
            )
            .await;
        list["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
    })
    .await;
    assert_eq!(dead["attempts"], 4);
    assert_eq!(dead["last_status"], 503);
    let dead_id = dead["id"].as_str().unwrap().to_owned();
    receiver.answer(200, 0).await;
    let (status, replayed) = hub
        .post(
            &format!("/api/v1/webhook-deliveries/{dead_id}/replay"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["state"], "pending");
    receiver
        .until("the replayed delivery", |got| {
            delivered(got).iter().any(|d| d["id"] == dead_id.as_str())
        })
        .await;
    let (status, again) = hub
        .post(
            &format!("/api/v1/webhook-deliveries/{dead_id}/replay"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "only a dead delivery is replayed: {again}");

    // A user's token manages no webhook.
    let (status, _) = hub.get("/api/v1/webhooks", &hub.token("bob")).await;
    assert_eq!(status, 403);
}

/// Polls `check` until it gives something.
async fn wait_for<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn two_nodes_deliver_each_event_once(backend: Backend, redis: bool) {
    let receiver = Receiver::start().await;
    let fabric = Fabric::new(redis);
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = node_with(db, &fabric, quick).await;
    let b = node_with(shared, &fabric, quick).await;
    register(&a, &receiver.hook_url(), &["member.joined", "chat.message"]).await;
    let venture = a.venture("alice", "Acme").await;
    let room = format!("venture:{venture}");
    // Events committed on both nodes, each node's worker racing the other's for them.
    let users: Vec<String> = (0..6).map(|i| format!("u{i}")).collect();
    for (i, user) in users.iter().enumerate() {
        let hub = if i % 2 == 0 { &a } else { &b };
        hub.add_member(&venture, "alice", user, "member").await;
    }
    let mut on_a = Sio::connect(a.addr, &a.token("u0")).await;
    on_a.join(&room).await;
    let mut on_b = Sio::connect(b.addr, &b.token("u1")).await;
    on_b.join(&room).await;
    let mut said = Vec::new();
    for i in 0..10 {
        let (sio, user) = if i % 2 == 0 {
            (&mut on_a, "u0")
        } else {
            (&mut on_b, "u1")
        };
        said.push(
            sio.say(&room, &format!("{user}-{i}"), &format!("m{i}"))
                .await,
        );
    }
    let got = receiver
        .until("every event", |got| got.len() >= users.len() + said.len())
        .await;
    // Nothing more comes (each delivered once): a last event, then the count again.
    a.add_member(&venture, "alice", "last", "member").await;
    let got_last = receiver
        .until("the last event", |got| {
            got.iter().any(|d| d["data"]["user_id"] == "last")
        })
        .await;
    assert_eq!(
        got_last.len(),
        got.len() + 1,
        "a delivery came twice: {got_last:#?}"
    );
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &got_last {
        *by_id.entry(d["id"].as_str().unwrap()).or_default() += 1;
    }
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
    let joined: Vec<&str> = got_last
        .iter()
        .filter(|d| d["type"] == "member.joined")
        .map(|d| d["data"]["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(joined, ["u0", "u1", "u2", "u3", "u4", "u5", "last"]);
    let seqs: Vec<i64> = got_last
        .iter()
        .filter(|d| d["type"] == "chat.message")
        .map(|d| d["data"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "in the room's order");
}

/// A hub process on `db` with quick webhook settings; SIGKILL when dropped.
async fn hub_process(db: &TestDb, addr: SocketAddr, data: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hub"))
        .env("DATABASE_URL", &db.url)
        .env("JWT_SECRET", SECRET)
        .env("DATA_DIR", data)
        .env("HUB_ADDR", addr.to_string())
        .env("HUB_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("HUB_WEBHOOK_RETRY_BASE", "100ms")
        .env("HUB_WEBHOOK_RETRY_MAX", "300ms")
        .env("HUB_WEBHOOK_POLL", "50ms")
        .env("HUB_WEBHOOK_TIMEOUT", "5s")
        .env("HUB_WEBHOOK_LEASE", "6s")
        .env("HUB_REST_RATE_USER", "1000000/1s")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the hub binary runs")
}

mod killed_mid_delivery {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::killed_mid_delivery(crate::common::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::killed_mid_delivery(crate::common::Backend::Postgres).await
    }
}

async fn killed_mid_delivery(backend: Backend) {
    let receiver = Receiver::start().await;
    let db = TestDb::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = hub_process(&db, addr, data.path()).await;
    let hub = TestHub::external(addr, db.shared()).await;
    register(
        &hub,
        &receiver.hook_url(),
        &["member.invited", "member.joined"],
    )
    .await;
    let venture = hub.venture("alice", "Acme").await;

    // The receiver holds its answer; the hub dies while it waits.
    receiver.answer(200, 1500).await;
    hub.add_member(&venture, "alice", "bob", "member").await;
    receiver.until_arrived(1).await;
    child.start_kill().unwrap();
    let _ = child.wait().await;
    receiver.answer(200, 0).await;

    // Back on the same database: once the dead node's lease ran out, the same deliveries come
    // again, with the same webhook-ids.
    let _child = hub_process(&db, addr, data.path()).await;
    let hub = TestHub::external(addr, db.shared()).await;
    let got = receiver
        .until("both events delivered after the restart", |got| {
            let d = delivered(got);
            types(&d) == ["member.invited", "member.joined"]
                && got.iter().filter(|x| x["type"] == "member.joined").count() >= 1
        })
        .await;
    let ids: Vec<&str> = got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.dedup();
    // Duplicates only of the same webhook-id, back to back (the one in flight at the kill).
    let mut unique = distinct.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 2, "{got:#?}");
    assert_eq!(distinct.len(), 2, "a duplicate out of order: {got:#?}");
    // The one in flight at the kill came twice (the receiver answered a dead hub), the same id.
    assert_eq!(ids.len(), 3, "{got:#?}");
    assert_eq!(ids[0], ids[1]);
    let admin = hub.token_with("root", None, AccountRole::Admin);
    let hook = first_webhook(&hub).await;
    // Both end delivered, each once in the hub's books.
    let list = wait_for(|| async {
        let (_, list) = hub
            .get(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin)
            .await;
        let all = list["deliveries"].as_array().unwrap().clone();
        (all.len() == 2 && all.iter().all(|d| d["state"] == "delivered")).then_some(all)
    })
    .await;
    assert_eq!(list.len(), 2);
}

async fn first_webhook(hub: &TestHub) -> String {
    let (_, list) = hub
        .get(
            "/api/v1/webhooks",
            &hub.token_with("root", None, AccountRole::Admin),
        )
        .await;
    list["webhooks"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.token_with("root", None, AccountRole::Admin);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://10.0.0.1/hook",
    ] {
        let (status, refused) = hub
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(status, 422, "{url}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("url: refused"),
            "{refused}"
        );
    }
    for (body, field) in [
        (json!({"url": "ftp://example.com", "events": ["*"]}), "url"),
        (
            json!({"url": "https://example.com/h", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/h", "events": ["nope"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/h", "events": ["*"], "secret": "plain"}),
            "secret",
        ),
    ] {
        let (status, refused) = hub.post("/api/v1/webhooks", &admin, body).await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{refused}"
        );
    }
    // A public name is taken; a made-up secret comes back once.
    let (status, made) = hub
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "https://hooks.example.com/in", "events": ["badge.awarded"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    let (_, list) = hub.get("/api/v1/webhooks", &admin).await;
    assert!(!list.to_string().contains("whsec_"), "{list}");
}
