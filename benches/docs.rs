//! Figures for collaborative documents, through the hub's public endpoints:
//! - relay rate: 20 editors on one document over `/yjs`, each sending small updates;
//! - cold open: `GET /api/v1/docs/{id}/state` of a 200 KB document not loaded yet;
//! - memory per loaded document (RSS growth while loading many).
//!
//! Run: `cargo bench --bench docs` (SQLite in a temp dir; `BENCH_DATABASE_URL` for another).

use futures_util::{SinkExt, StreamExt};
use hub::Config;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use yrs::sync::{Message as SyncFrame, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Text, Transact, Update};

const SECRET: &str = "bench-secret-bench-secret-bench-secret";
const EDITORS: usize = 20;
const UPDATES_PER_EDITOR: usize = 5000;

fn token(user: &str) -> String {
    hub::auth::mint_with_secret(
        SECRET.as_bytes(),
        user,
        None,
        AccountRole::User,
        Duration::from_secs(3600),
    )
    .unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

struct Bench {
    base: String,
    addr: std::net::SocketAddr,
    http: reqwest::Client,
    room: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(url: &str) -> Bench {
    let mut config = Config::new(url, SECRET.as_bytes().to_vec());
    config.docs.limits.max_doc_bytes = 1 << 30;
    config.docs.idle_unload = Duration::from_secs(3600);
    // The bench drives REST as fast as it can; the rate limits are not what it measures.
    let plenty = hub_rooms::rate::Quota::parse("1000000/1s").expect("quota");
    config.rest_limits.anonymous = plenty;
    config.rest_limits.user = plenty;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(hub::run(config, listener, async move {
        let _ = rx.await;
    }));
    // reqwest is built without a TLS provider: the hub's own (rustls with ring) serves it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    for _ in 0..200 {
        if http.get(format!("{base}/api/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v: Value = http
        .post(format!("{base}/api/v1/ventures"))
        .bearer_auth(token("owner"))
        .json(&json!({"name": "Bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let venture = v["id"].as_str().unwrap().to_owned();
    for i in 0..EDITORS {
        http.post(format!("{base}/api/v1/ventures/{venture}/members"))
            .bearer_auth(token("owner"))
            .json(&json!({"user_id": format!("editor{i}"), "role": "member"}))
            .send()
            .await
            .unwrap();
    }
    Bench {
        base,
        addr,
        http,
        room: format!("venture:{venture}"),
        shutdown: Some(tx),
        handle,
    }
}

impl Bench {
    async fn doc(&self, title: &str) -> String {
        let d: Value = self
            .http
            .post(format!("{}/api/v1/docs", self.base))
            .bearer_auth(token("owner"))
            .json(&json!({"room": self.room, "title": title}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        d["id"].as_str().unwrap().to_owned()
    }

    async fn post_update(&self, doc: &str, update: Vec<u8>) {
        let status = self
            .http
            .post(format!("{}/api/v1/docs/{doc}/updates", self.base))
            .bearer_auth(token("owner"))
            .body(update)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    }

    async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        let _ = self.handle.await;
    }
}

/// Small updates from one client, as an editor typing: one character each.
fn typing_updates(client: u64, n: usize) -> Vec<Vec<u8>> {
    let doc = Doc::with_client_id(client);
    let text = doc.get_or_insert_text("t");
    (0..n)
        .map(|i| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, i as u32, "x");
            txn.encode_update_v1()
        })
        .collect()
}

/// A document of about `bytes` encoded bytes, written as many edits of a paragraph each.
async fn fill(b: &Bench, doc: &str, bytes: usize) {
    let mut written = 0;
    let mut client = 1000;
    while written < bytes {
        let d = Doc::with_client_id(client);
        client += 1;
        let text = d.get_or_insert_text("t");
        let mut txn = d.transact_mut();
        text.insert(&mut txn, 0, &"lorem ipsum dolor sit amet ".repeat(40));
        let update = txn.encode_update_v1();
        written += update.len();
        b.post_update(doc, update).await;
    }
}

async fn relay_rate(b: &Bench) {
    let doc = b.doc("relay").await;
    let mut sockets = Vec::new();
    for i in 0..EDITORS {
        let url = format!(
            "ws://{}/yjs/{doc}?token={}",
            b.addr,
            token(&format!("editor{i}"))
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        // The hub's sync step 1 comes once the connection is attached: from then on it gets
        // every edit (this editor never asks for a step 2 that would bring earlier ones).
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(f))) if f.starts_with(&[0, 0]) => break,
                Some(Ok(_)) => {}
                other => panic!("editor {i} closed before the hub's step 1: {other:?}"),
            }
        }
        sockets.push(ws);
    }
    let expected_in = EDITORS * UPDATES_PER_EDITOR;
    let expected_out = expected_in * (EDITORS - 1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let updates = typing_updates(i as u64 + 1, UPDATES_PER_EDITOR);
        tasks.push(tokio::spawn(async move {
            let (mut write, mut read) = ws.split();
            let sender = tokio::spawn(async move {
                for u in updates {
                    write
                        .send(Message::binary(hub_rooms::doc::update_frame(&u)))
                        .await
                        .unwrap();
                }
                write
            });
            // The hub merges what one editor sent together, so a frame may carry several
            // one-character updates: the characters a frame inserts count them.
            let (mut relayed, mut frames) = (0usize, 0usize);
            let mut all = yrs::IdSet::new();
            while relayed < UPDATES_PER_EDITOR * (EDITORS - 1) {
                match tokio::time::timeout(Duration::from_secs(60), read.next()).await {
                    Ok(Some(Ok(Message::Binary(f)))) if f.starts_with(&[0, 2]) => {
                        let Ok(SyncFrame::Sync(SyncMessage::Update(u))) = SyncFrame::decode_v1(&f)
                        else {
                            panic!("editor {i}: not an update frame");
                        };
                        let inserted = Update::decode_v1(&u).unwrap().insertions(false);
                        relayed += inserted
                            .iter()
                            .map(|(_, ranges)| ranges.iter().map(|r| r.len()).sum::<usize>())
                            .sum::<usize>();
                        // What arrived, to say which edits are missing if some never do.
                        all.merge_with(inserted);
                        frames += 1;
                    }
                    Ok(Some(Ok(Message::Close(close)))) => {
                        panic!("editor {i} closed by the hub after {relayed} relayed updates: {close:?}")
                    }
                    Ok(Some(Ok(_))) => {}
                    other => panic!(
                        "editor {i} stopped after {relayed} relayed updates in {frames} frames: {other:?}; got {all:?}"
                    ),
                }
            }
            let _write = sender.await.unwrap();
            (relayed, frames)
        }));
    }
    let (mut out, mut frames) = (0, 0);
    for t in tasks {
        let (updates, f) = t.await.unwrap();
        out += updates;
        frames += f;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(out, expected_out);
    println!(
        "relay, 1 document, {EDITORS} editors over /yjs, {UPDATES_PER_EDITOR} one-character updates each (each logged before it is relayed):"
    );
    println!(
        "  {expected_in} updates in, {expected_out} relayed out in {frames} frames in {secs:.2} s: {:.0} updates/s in, {:.0} updates/s out",
        expected_in as f64 / secs,
        expected_out as f64 / secs
    );
}

async fn cold_open(url: &str) {
    let b = start(url).await;
    let mut docs = Vec::new();
    for i in 0..5 {
        let doc = b.doc(&format!("cold {i}")).await;
        fill(&b, &doc, 200 * 1024).await;
        docs.push(doc);
    }
    let size = b
        .http
        .get(format!("{}/api/v1/docs/{}/state", b.base, docs[0]))
        .bearer_auth(token("owner"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    b.stop().await;
    // A fresh hub on the same database: nothing is loaded.
    let b = start(url).await;
    let mut times = Vec::new();
    for doc in &docs {
        let t = Instant::now();
        let state = b
            .http
            .get(format!("{}/api/v1/docs/{doc}/state", b.base))
            .bearer_auth(token("owner"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        times.push(t.elapsed());
        assert!(state.len() > 100 * 1024);
    }
    times.sort();
    println!(
        "cold open: GET /state of a document of {} KB (encoded) stored as a log of 1 KB updates, first load on a fresh hub:",
        size / 1024
    );
    println!(
        "  median {:.1} ms, max {:.1} ms over {} documents",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
    b.stop().await;
}

async fn memory(url: &str) {
    // Load documents into a fresh hub from storage and measure what loading them costs.
    let b = start(url).await;
    let mut small = Vec::new();
    for i in 0..2000 {
        small.push(b.doc(&format!("empty {i}")).await);
    }
    let mut big = Vec::new();
    for i in 0..20 {
        let doc = b.doc(&format!("big {i}")).await;
        fill(&b, &doc, 200 * 1024).await;
        big.push(doc);
    }
    b.stop().await;
    let b = start(url).await;
    println!(
        "memory per loaded document (process RSS growth; hub and load generator share the process):"
    );
    for (label, docs) in [("empty", &small), ("200 KB", &big)] {
        let before = rss_kib();
        for doc in docs.iter() {
            b.http
                .get(format!("{}/api/v1/docs/{doc}/state", b.base))
                .bearer_auth(token("owner"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        let after = rss_kib();
        println!(
            "  {} {label} documents loaded: {} KiB, {:.1} KiB per document",
            docs.len(),
            after.saturating_sub(before),
            after.saturating_sub(before) as f64 / docs.len() as f64
        );
    }
    b.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    println!(
        "documents bench on {}",
        url.split(':').next().unwrap_or("?")
    );
    // `cargo bench --bench docs -- relay` runs only the parts named (memory, relay, cold).
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs = |part: &str| named.is_empty() || named.iter().any(|n| n == part);
    // Memory first, while the heap has nothing freed to reuse.
    if runs("memory") {
        memory(&url).await;
    }
    if runs("relay") {
        let b = start(&url).await;
        relay_rate(&b).await;
        b.stop().await;
    }
    if runs("cold") {
        cold_open(&url).await;
    }
}
