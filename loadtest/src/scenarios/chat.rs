//! `chat`: R rooms × M members, P publishers sending at a total rate. Every message carries its
//! send time; members record end-to-end latency, seq gaps and duplicates.

use super::{Ctx, Joined, close_all, connect_many_where, join_all};
use crate::client::Out;
use crate::stats::{Latency, Recorder, micros_now};
use crate::wire::{self, Answer};
use clap::Args;
use hub_protocol::chat::{ChatSend, Message, MessageAck};
use hub_protocol::realtime::{client, server};
use hub_protocol::{ErrorCode, ErrorDetail};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Rooms.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Receiving members per room.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Publishing connections, spread over the rooms.
    #[arg(long, default_value_t = 20)]
    pub publishers: usize,
    /// Messages per second, all publishers together.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Seconds to wait for deliveries after the last message.
    #[arg(long, default_value_t = 5)]
    pub drain: u64,
    /// Connections opened per second.
    #[arg(long, default_value_t = 2000.0)]
    pub connect_rate: f64,
    /// With several targets: put every publisher on the target of this index (from 0) and the
    /// members on the others, so that every delivery crosses nodes. Unset: members and
    /// publishers are spread over all targets.
    #[arg(long)]
    pub publishers_on: Option<usize>,
    /// With several targets: every member and publisher of room `r` connects to target
    /// `r % targets` (rooms spread evenly over the nodes, each room on one), as a load balancer
    /// with room affinity would place them. Unset: connections go round-robin.
    #[arg(long, conflicts_with = "publishers_on")]
    pub room_per_node: bool,
}

#[derive(Debug, Serialize)]
pub struct ChatSummary {
    pub receivers: usize,
    pub publishers: usize,
    pub connect_failures: usize,
    pub sent: u64,
    pub acked: u64,
    pub ack_errors: u64,
    /// The refused sends by error code (`rate_limited`: the hub's per-user chat rate).
    pub ack_errors_by_code: std::collections::BTreeMap<String, u64>,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub delivered_per_second: f64,
    pub seq_gaps: u64,
    pub duplicates: u64,
    pub disconnected: u64,
    /// End to end: send time to delivery at a member.
    pub latency: Latency,
    /// `chat:send` to its ack (the message is stored when acked).
    pub ack_latency: Latency,
    #[serde(skip)]
    pub series: Vec<hdrhistogram::Histogram<u64>>,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    gaps: AtomicU64,
    dups: AtomicU64,
    closed: AtomicU64,
    acked: AtomicU64,
    ack_errors: AtomicU64,
    ack_error_codes: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// The hub's message for a `rate_limited` refusal (it states the limit).
    rate_message: std::sync::Mutex<Option<String>>,
}

/// The send time (microseconds) a load-test message carries in its body (`t<micros>`).
fn sent_at(message: &Message) -> Option<u64> {
    message.body.strip_prefix('t')?.parse().ok()
}

pub async fn run(ctx: &Ctx, args: &ChatArgs) -> anyhow::Result<ChatSummary> {
    let per_room_pubs = args.publishers.div_ceil(args.rooms.max(1));
    let user = |r: usize, i: usize| format!("lt-{r}-{i}");
    let rooms: Vec<String> = if ctx.is_hub {
        crate::setup::hub_rooms(&ctx.base, &ctx.tokens, args.rooms, |r| {
            (0..args.members + per_room_pubs)
                .map(|i| user(r, i))
                .collect()
        })
        .await?
    } else {
        (0..args.rooms).map(|r| format!("room-{r}")).collect()
    };
    let counters = Arc::new(Counters::default());
    let recorder = Recorder::new();

    let n = args.rooms * args.members;
    let joined: Vec<Arc<Joined>> = (0..n).map(|_| Arc::new(Joined::default())).collect();
    // Where members and publishers connect.
    let (member_targets, publisher_targets): (Vec<SocketAddr>, Vec<SocketAddr>) =
        match args.publishers_on {
            Some(p) if ctx.addrs.len() > 1 => {
                anyhow::ensure!(p < ctx.addrs.len(), "--publishers-on {p}: no such target");
                let others = (0..ctx.addrs.len())
                    .filter(|i| *i != p)
                    .map(|i| ctx.addrs[i])
                    .collect();
                (others, vec![ctx.addrs[p]])
            }
            _ => (ctx.addrs.clone(), ctx.addrs.clone()),
        };
    let rooms_n = args.rooms.max(1);
    let (member_place, publisher_place): (
        Box<dyn Fn(usize) -> usize>,
        Box<dyn Fn(usize) -> usize>,
    ) = if args.room_per_node {
        let members = args.members.max(1);
        (
            Box::new(move |i| i / members),
            Box::new(move |j| j % rooms_n),
        )
    } else {
        (Box::new(|i| i), Box::new(|j| j))
    };
    let (receivers, failed_r) = connect_many_where(
        ctx,
        &member_targets,
        n,
        args.connect_rate,
        "members",
        member_place,
        |i| {
            let (r, m) = (i / args.members, i % args.members);
            let (c, rec, j) = (counters.clone(), recorder.clone(), joined[i].clone());
            let mut expected: Option<u64> = None;
            let handler = move |p: &str| {
                if let Some(message) = wire::event::<Message>(p, server::CHAT_MESSAGE) {
                    let now = micros_now();
                    if let Some(sent) = sent_at(&message) {
                        rec.record(i, now.saturating_sub(sent));
                    }
                    c.delivered.fetch_add(1, Ordering::Relaxed);
                    if let Ok(seq) = u64::try_from(message.seq) {
                        match expected {
                            Some(e) if seq < e => {
                                c.dups.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(e) if seq > e => {
                                c.gaps.fetch_add(seq - e, Ordering::Relaxed);
                                expected = Some(seq + 1);
                            }
                            _ => expected = Some(seq + 1),
                        }
                    }
                } else if p == "__closed" {
                    c.closed.fetch_add(1, Ordering::Relaxed);
                } else {
                    j.on_packet(p);
                }
            };
            (ctx.tokens.mint(&user(r, m), "user"), handler)
        },
    )
    .await;
    let ok = join_all(&receivers, |i| rooms[i / args.members].clone(), &joined).await;
    if !ctx.quiet {
        eprintln!("{ok} members joined their rooms");
    }

    let pub_joined: Vec<Arc<Joined>> = (0..args.publishers)
        .map(|_| Arc::new(Joined::default()))
        .collect();
    let ack_recorder = Recorder::new();
    type Pending = Arc<std::sync::Mutex<std::collections::HashMap<u64, u64>>>;
    let sent_at: Vec<Pending> = (0..args.publishers).map(|_| Pending::default()).collect();
    let (publishers, failed_p) = connect_many_where(
        ctx,
        &publisher_targets,
        args.publishers,
        args.connect_rate,
        "publishers",
        publisher_place,
        |j| {
            let (c, pj) = (counters.clone(), pub_joined[j].clone());
            let (acks, pending) = (ack_recorder.clone(), sent_at[j].clone());
            let handler = move |p: &str| {
                if let Some(k) = wire::ack_id(p).filter(|k| *k != 0) {
                    if let Some(t) = pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&k) {
                        acks.record(j, micros_now().saturating_sub(t));
                    }
                    let refusal = match wire::ack::<MessageAck>(p) {
                        Some((_, Answer::Ok(_))) => None,
                        Some((_, Answer::Err(e))) => Some(e.error),
                        _ => Some(ErrorDetail {
                            code: ErrorCode::Internal,
                            message: format!("unreadable ack: {p}"),
                        }),
                    };
                    if let Some(refusal) = refusal {
                        c.ack_errors.fetch_add(1, Ordering::Relaxed);
                        let code = refusal.code.as_str().to_owned();
                        if refusal.code == ErrorCode::RateLimited {
                            c.rate_message
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(refusal.message);
                        }
                        *c.ack_error_codes
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(code)
                            .or_default() += 1;
                    } else {
                        c.acked.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    pj.on_packet(p);
                }
            };
            let r = j % args.rooms.max(1);
            (
                ctx.tokens
                    .mint(&user(r, args.members + j / args.rooms.max(1)), "user"),
                handler,
            )
        },
    )
    .await;
    join_all(
        &publishers,
        |j| rooms[j % args.rooms.max(1)].clone(),
        &pub_joined,
    )
    .await;

    // Publish: each publisher at rate / publishers, for the duration.
    let live: Vec<(usize, tokio::sync::mpsc::Sender<Out>)> = publishers
        .iter()
        .enumerate()
        .filter_map(|(j, c)| c.as_ref().map(|c| (j, c.tx.clone())))
        .collect();
    let per_pub = args.rate / live.len().max(1) as f64;
    let sent = Arc::new(AtomicU64::new(0));
    let bar = ctx.bar(args.duration, "publishing");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (j, tx) in live {
        let room = rooms[j % args.rooms.max(1)].clone();
        let pending = sent_at[j].clone();
        let (sent, duration) = (sent.clone(), Duration::from_secs(args.duration));
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_pub.max(0.001)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut k: u64 = 1;
            while start.elapsed() < duration {
                tick.tick().await;
                let now = micros_now();
                let body = format!("t{now}");
                pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(k, now);
                let send = ChatSend {
                    room: room.as_str().into(),
                    client_id: format!("p{j}-{k}-{}", micros_now()),
                    body,
                    reply_to: None,
                };
                let packet = wire::emit(Some(k), client::ChatSendEvent, &send);
                if tx.send(Out::Packet(packet)).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
        }));
    }
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    let publish_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(args.drain)).await;
    ticker.abort();
    bar.finish();

    let acked = counters.acked.load(Ordering::Relaxed);
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let by_code = counters
        .ack_error_codes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(n) = by_code.get("rate_limited") {
        let said = counters
            .rate_message
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        eprintln!(
            "{n} sends were refused as rate_limited (\"{said}\"): the hub's per-user chat limit; raise HUB_CHAT_RATE and HUB_CHAT_BURST on the hub for a load test (loadtest/bench.sh does)"
        );
    }
    let summary = ChatSummary {
        receivers: n - failed_r,
        publishers: args.publishers - failed_p,
        connect_failures: failed_r + failed_p,
        sent: sent.load(Ordering::Relaxed),
        acked,
        ack_errors: counters.ack_errors.load(Ordering::Relaxed),
        ack_errors_by_code: by_code,
        expected_deliveries: acked * args.members as u64,
        delivered,
        delivered_per_second: delivered as f64 / publish_secs,
        seq_gaps: counters.gaps.load(Ordering::Relaxed),
        duplicates: counters.dups.load(Ordering::Relaxed),
        disconnected: counters.closed.load(Ordering::Relaxed),
        latency: Latency::of(&recorder.merged()),
        ack_latency: Latency::of(&ack_recorder.merged()),
        series: recorder.series(),
    };
    close_all(receivers).await;
    close_all(publishers).await;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_send_time_out_of_a_body() {
        let p = r#"42["chat:message",{"id":"x","room":"r","seq":42,"author_id":"a","client_id":"c","body":"t1700000000123456","reply_to":null,"created_at":"","edited_at":null,"deleted":false,"reactions":{}}]"#;
        let m: Message = wire::event(p, server::CHAT_MESSAGE).unwrap();
        assert_eq!(sent_at(&m), Some(1_700_000_000_123_456));
        let other = Message {
            body: "hello".into(),
            ..m
        };
        assert_eq!(sent_at(&other), None);
    }
}
