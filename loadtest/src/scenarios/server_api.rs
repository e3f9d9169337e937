//! The server API and webhooks (hub only).
//!
//! `publish`: M members in a room; a backend publishes through `POST /api/v1/rooms/{room}/
//! publish` at a rate, each publication carrying its send time; members record publish-to-
//! delivery latency. `webhooks`: publishers send chat messages (each carrying its send time)
//! into a room that E webhook endpoints hear; a receiver in this process answers every delivery
//! and records deliveries per second, send-to-delivery latency, and duplicates; then the same
//! receiver is driven by a bare sequential HTTP client, the ceiling of in-order delivery to it.

use super::{Ctx, Joined, close_all, connect_many, join_all};
use crate::client::Out;
use crate::stats::{Latency, Recorder, micros_now};
use crate::wire;
use clap::Args;
use hub_protocol::chat::ChatSend;
use hub_protocol::realtime::{client, server};
use hub_protocol::server::Publication;
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// Members in the room.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Publications per second.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Concurrent publishing requests at most.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds to wait for deliveries after the last publication.
    #[arg(long, default_value_t = 3)]
    pub drain: u64,
    /// Keep each publication with a seq (`store: true`).
    #[arg(long)]
    pub store: bool,
}

#[derive(Debug, Serialize)]
pub struct PublishSummary {
    pub members: usize,
    pub published: u64,
    pub refused: u64,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub delivered_per_second: f64,
    /// The backend's send to a member's receipt.
    pub latency: Latency,
    /// The publish request's round trip.
    pub api_latency: Latency,
    #[serde(skip)]
    pub series: Vec<hdrhistogram::Histogram<u64>>,
}

pub async fn publish(ctx: &Ctx, args: &PublishArgs) -> anyhow::Result<PublishSummary> {
    anyhow::ensure!(ctx.is_hub, "publish runs against the hub");
    let user = |i: usize| format!("lp-{i}");
    let rooms = crate::setup::hub_rooms(&ctx.base, &ctx.tokens, 1, |_| {
        (0..args.members).map(user).collect()
    })
    .await?;
    let room = rooms[0].clone();
    let recorder = Recorder::new();
    let delivered = Arc::new(AtomicU64::new(0));
    let joined: Vec<Arc<Joined>> = (0..args.members)
        .map(|_| Arc::new(Joined::default()))
        .collect();
    let (members, failed) = connect_many(ctx, args.members, 2000.0, "members", |i| {
        let (rec, n, j) = (recorder.clone(), delivered.clone(), joined[i].clone());
        let handler = move |p: &str| {
            if let Some(publication) = wire::event::<Publication>(p, server::SERVER_EVENT) {
                if let Some(sent) = publication.data.get("t").and_then(|t| t.as_u64()) {
                    rec.record(i, micros_now().saturating_sub(sent));
                }
                n.fetch_add(1, Ordering::Relaxed);
            } else {
                j.on_packet(p);
            }
        };
        (ctx.tokens.mint(&user(i), "user"), handler)
    })
    .await;
    let ok = join_all(&members, |_| room.clone(), &joined).await;
    if !ctx.quiet {
        eprintln!("{ok} members joined {room}");
    }

    let http = reqwest::Client::new();
    let system = ctx.tokens.mint("lp-backend", "system");
    let url = format!("{}/api/v1/rooms/{room}/publish", ctx.base);
    let api = Recorder::new();
    let (published, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1)));
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate.max(0.001)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    while start.elapsed() < Duration::from_secs(args.duration) {
        tick.tick().await;
        let permit = gate.clone().acquire_owned().await?;
        let (http, url, system, api) = (http.clone(), url.clone(), system.clone(), api.clone());
        let (published, refused, store) = (published.clone(), refused.clone(), args.store);
        tasks.push(tokio::spawn(async move {
            let t = micros_now();
            let body = json!({"event": "lt", "data": {"t": t}, "store": store});
            let answer = http
                .post(&url)
                .bearer_auth(&system)
                .json(&body)
                .send()
                .await;
            api.record(0, micros_now().saturating_sub(t));
            match answer {
                Ok(r) if r.status().is_success() => published.fetch_add(1, Ordering::Relaxed),
                _ => refused.fetch_add(1, Ordering::Relaxed),
            };
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(args.drain)).await;
    let published = published.load(Ordering::Relaxed);
    let delivered = delivered.load(Ordering::Relaxed);
    let summary = PublishSummary {
        members: args.members - failed,
        published,
        refused: refused.load(Ordering::Relaxed),
        expected_deliveries: published * (args.members - failed) as u64,
        delivered,
        delivered_per_second: delivered as f64 / secs,
        latency: Latency::of(&recorder.merged()),
        api_latency: Latency::of(&api.merged()),
        series: recorder.series(),
    };
    close_all(members).await;
    Ok(summary)
}

#[derive(Debug, Clone, Args)]
pub struct WebhooksArgs {
    /// Webhook endpoints hearing the room (each gets every message, in order).
    #[arg(long, default_value_t = 1)]
    pub endpoints: usize,
    /// Chat messages per second into the room.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Publishing connections.
    #[arg(long, default_value_t = 10)]
    pub publishers: usize,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds to wait at most for the last deliveries.
    #[arg(long, default_value_t = 60)]
    pub drain: u64,
}

#[derive(Debug, Serialize)]
pub struct WebhooksSummary {
    pub endpoints: usize,
    pub messages: u64,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub duplicates: u64,
    /// Deliveries over the time from the first send to the last delivery.
    pub delivered_per_second: f64,
    /// A message's send to its delivery at the receiver.
    pub latency: Latency,
    /// The same receiver, driven by a bare sequential HTTP client for as many requests as one
    /// endpoint got: requests per second (the ceiling of in-order delivery to one endpoint).
    pub bare_sequential_per_second: f64,
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    ids: Mutex<HashSet<String>>,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    last: AtomicU64,
}

/// A minimal HTTP/1.1 receiver (keep-alive, `Content-Length` bodies) answering `204` to
/// everything; each webhook delivery's send time is read from its chat body (`t<micros>`).
async fn receiver(seen: Arc<Seen>, recorder: Recorder) -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            let (seen, recorder) = (seen.clone(), recorder.clone());
            n += 1;
            let slot = n;
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut id = None;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        let lower = l.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        } else if lower.starts_with("webhook-id:") {
                            id = Some(l["webhook-id:".len()..].trim().to_owned());
                        }
                    }
                    let mut body = vec![0u8; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let now = micros_now();
                    if let Some(id) = id {
                        let fresh = seen
                            .ids
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(id);
                        if fresh {
                            seen.delivered.fetch_add(1, Ordering::Relaxed);
                            seen.last.store(now, Ordering::Relaxed);
                            let sent = serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| {
                                    v["data"]["body"]
                                        .as_str()
                                        .and_then(|b| b.strip_prefix('t'))
                                        .and_then(|t| t.parse::<u64>().ok())
                                });
                            if let Some(sent) = sent {
                                recorder.record(slot, now.saturating_sub(sent));
                            }
                        } else {
                            seen.duplicates.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    if write
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

pub async fn webhooks(ctx: &Ctx, args: &WebhooksArgs) -> anyhow::Result<WebhooksSummary> {
    anyhow::ensure!(ctx.is_hub, "webhooks runs against the hub");
    let seen = Arc::new(Seen::default());
    let recorder = Recorder::new();
    let port = receiver(seen.clone(), recorder.clone()).await?;
    let user = |i: usize| format!("lw-{i}");
    let rooms = crate::setup::hub_rooms(&ctx.base, &ctx.tokens, 1, |_| {
        (0..args.publishers).map(user).collect()
    })
    .await?;
    let room = rooms[0].clone();
    let http = reqwest::Client::new();
    let admin = ctx.tokens.mint("lw-admin", "admin");
    for e in 0..args.endpoints {
        let resp = http
            .post(format!("{}/api/v1/webhooks", ctx.base))
            .bearer_auth(&admin)
            .json(&json!({
                "url": format!("http://127.0.0.1:{port}/hook/{e}"),
                "events": ["chat.message"],
                "rooms": [room],
            }))
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().as_u16() == 201,
            "registering a webhook: {} {} (start the hub with HUB_WEBHOOK_ALLOW_PRIVATE=true)",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
    }

    let joined: Vec<Arc<Joined>> = (0..args.publishers)
        .map(|_| Arc::new(Joined::default()))
        .collect();
    let acked = Arc::new(AtomicU64::new(0));
    let (publishers, _) = connect_many(ctx, args.publishers, 500.0, "publishers", |i| {
        let (j, acked) = (joined[i].clone(), acked.clone());
        let handler = move |p: &str| {
            if wire::ack_id(p).is_some_and(|k| k != 0) {
                acked.fetch_add(1, Ordering::Relaxed);
            } else {
                j.on_packet(p);
            }
        };
        (ctx.tokens.mint(&user(i), "user"), handler)
    })
    .await;
    join_all(&publishers, |_| room.clone(), &joined).await;
    let live: Vec<_> = publishers
        .iter()
        .filter_map(|c| c.as_ref().map(|c| c.tx.clone()))
        .collect();
    let per_pub = args.rate / live.len().max(1) as f64;
    let start = Instant::now();
    let first_send = micros_now();
    let mut tasks = Vec::new();
    for (j, tx) in live.into_iter().enumerate() {
        let (room, duration) = (room.clone(), Duration::from_secs(args.duration));
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_pub.max(0.001)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut k: u64 = 1;
            while start.elapsed() < duration {
                tick.tick().await;
                let send = ChatSend {
                    room: room.as_str().into(),
                    client_id: format!("w{j}-{k}-{}", micros_now()),
                    body: format!("t{}", micros_now()),
                    reply_to: None,
                };
                if tx
                    .send(Out::Packet(wire::emit(
                        Some(k),
                        client::ChatSendEvent,
                        &send,
                    )))
                    .await
                    .is_err()
                {
                    return;
                }
                k += 1;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    // Wait for the acks, then for the deliveries (or the drain time).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = acked.load(Ordering::Relaxed);
    let expected = messages * args.endpoints as u64;
    let deadline = Instant::now() + Duration::from_secs(args.drain);
    while seen.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = seen.delivered.load(Ordering::Relaxed);
    let span = seen
        .last
        .load(Ordering::Relaxed)
        .saturating_sub(first_send)
        .max(1) as f64
        / 1e6;
    close_all(publishers).await;

    // The ceiling: the same receiver, one request after another.
    let n = (delivered / args.endpoints.max(1) as u64).clamp(100, 20_000);
    let bare = Instant::now();
    let url = format!("http://127.0.0.1:{port}/bare");
    for i in 0..n {
        http.post(&url)
            .header("webhook-id", format!("bare-{i}"))
            .body("{}")
            .send()
            .await?;
    }
    let bare_per_second = n as f64 / bare.elapsed().as_secs_f64();

    Ok(WebhooksSummary {
        endpoints: args.endpoints,
        messages,
        expected_deliveries: expected,
        delivered,
        duplicates: seen.duplicates.load(Ordering::Relaxed),
        delivered_per_second: delivered as f64 / span,
        latency: Latency::of(&recorder.merged()),
        bare_sequential_per_second: bare_per_second,
    })
}
