//! `presence` (hub only): users connect, join one room, stay a while and disconnect, at a rate.
//! An observer in the room records how long each `presence:join` and `presence:leave` took to
//! arrive, checks that every join is matched by a leave, and that nobody is left at the end.

use super::{Ctx, Joined};
use crate::client::{self as conn, Out};
use crate::stats::{Latency, Recorder, micros_now};
use crate::wire::{self, Answer};
use clap::Args;
use hub_protocol::realtime::{client, server};
use hub_protocol::rooms::{PresenceChanged, PresenceLeft, RoomJoin, RoomJoined};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct PresenceArgs {
    /// Users arriving per second.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Seconds of churn.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// How long each user stays, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub stay_ms: u64,
    /// The hub's presence grace (HUB_PRESENCE_GRACE), in milliseconds: subtracted from leave
    /// latencies, and waited for at the end.
    #[arg(long, default_value_t = 5000)]
    pub grace_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct PresenceSummary {
    pub users: u64,
    pub joins_seen: u64,
    pub leaves_seen: u64,
    pub unmatched: u64,
    pub ghosts_at_end: u64,
    pub join_latency: Latency,
    pub leave_latency_after_grace: Latency,
}

#[derive(Default)]
struct Book {
    joined_at: HashMap<String, u64>,
    left_at: HashMap<String, u64>,
    joins: HashMap<String, u64>,
    leaves: HashMap<String, u64>,
}

/// A `room:join` packet for `room` with ack id `ack`.
fn join_packet(ack: u64, room: &str) -> String {
    let join = RoomJoin {
        room: room.into(),
        since: None,
    };
    wire::emit(Some(ack), client::RoomJoinEvent, &join)
}

pub async fn run(ctx: &Ctx, args: &PresenceArgs) -> anyhow::Result<PresenceSummary> {
    anyhow::ensure!(ctx.is_hub, "the presence scenario needs the hub");
    let users = (args.rate * args.duration as f64).round() as usize;
    let name = |i: usize| format!("churn-{i}");
    let rooms = crate::setup::hub_rooms(&ctx.base, &ctx.tokens, 1, |_| {
        let mut m: Vec<String> = (0..users).map(name).collect();
        m.push("observer".into());
        m
    })
    .await?;
    let room = rooms[0].clone();
    let book = Arc::new(Mutex::new(Book::default()));
    let (joins, leaves) = (Recorder::new(), Recorder::new());
    let ghosts = Arc::new(AtomicU64::new(u64::MAX));
    let observer_joined = Arc::new(Joined::default());
    let observer = {
        let (book, joins, leaves, ghosts, oj, grace) = (
            book.clone(),
            joins.clone(),
            leaves.clone(),
            ghosts.clone(),
            observer_joined.clone(),
            args.grace_ms * 1000,
        );
        conn::connect(
            ctx.addr,
            &ctx.path,
            &ctx.tokens.mint("observer", "user"),
            &ctx.sources,
            move |p: &str| {
                let now = micros_now();
                let mut b = book.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(joined) = wire::event::<PresenceChanged>(p, server::PRESENCE_JOIN) {
                    let u = joined.user.user_id.0;
                    if let Some(t) = b.joined_at.get(&u) {
                        joins.record(0, now.saturating_sub(*t));
                    }
                    *b.joins.entry(u).or_default() += 1;
                } else if let Some(left) = wire::event::<PresenceLeft>(p, server::PRESENCE_LEAVE) {
                    let u = left.user_id.0;
                    if let Some(t) = b.left_at.get(&u) {
                        leaves.record(0, now.saturating_sub(*t).saturating_sub(grace));
                    }
                    *b.leaves.entry(u).or_default() += 1;
                } else if wire::ack_id(p) == Some(1) {
                    // The final rejoin: everyone but the observer still present is a ghost.
                    if let Some((_, Answer::Ok(joined))) = wire::ack::<RoomJoined>(p) {
                        let present = joined.presence.len() as u64;
                        ghosts.store(present.saturating_sub(1), Ordering::Release);
                    }
                } else {
                    oj.on_packet(p);
                }
            },
        )
        .await?
    };
    observer.tx.send(Out::Packet(join_packet(0, &room))).await?;
    anyhow::ensure!(
        observer_joined.wait(Duration::from_secs(10)).await,
        "the observer could not join"
    );

    let bar = ctx.bar(users as u64, "churn");
    let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.1));
    let mut next = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..users {
        tokio::time::sleep_until(next).await;
        next += interval;
        let (ctx, book, room, bar, stay) = (
            ctx.clone(),
            book.clone(),
            room.clone(),
            bar.clone(),
            Duration::from_millis(args.stay_ms),
        );
        let user = name(i);
        tasks.push(tokio::spawn(async move {
            let joined = Arc::new(Joined::default());
            let j = joined.clone();
            let Ok(conn) = conn::connect(
                ctx.addr,
                &ctx.path,
                &ctx.tokens.mint(&user, "user"),
                &ctx.sources,
                move |p: &str| j.on_packet(p),
            )
            .await
            else {
                return;
            };
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .joined_at
                .insert(user.clone(), micros_now());
            let _ = conn.tx.send(Out::Packet(join_packet(0, &room))).await;
            joined.wait(Duration::from_secs(10)).await;
            tokio::time::sleep(stay).await;
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .left_at
                .insert(user, micros_now());
            let _ = conn.tx.send(Out::Close).await;
            bar.inc(1);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    bar.finish();
    // Let every leave come through (grace plus a margin), then look at who is still there.
    tokio::time::sleep(Duration::from_millis(args.grace_ms + 2000)).await;
    observer.tx.send(Out::Packet(join_packet(1, &room))).await?;
    for _ in 0..100 {
        if ghosts.load(Ordering::Acquire) != u64::MAX {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary = {
        let b = book.lock().unwrap_or_else(|e| e.into_inner());
        let unmatched = b
            .joins
            .iter()
            .filter(|(u, n)| b.leaves.get(*u) != Some(*n))
            .count() as u64;
        PresenceSummary {
            users: users as u64,
            joins_seen: b.joins.values().sum(),
            leaves_seen: b.leaves.values().sum(),
            unmatched,
            ghosts_at_end: ghosts.load(Ordering::Acquire),
            join_latency: Latency::of(&joins.merged()),
            leave_latency_after_grace: Latency::of(&leaves.merged()),
        }
    };
    let _ = observer.tx.send(Out::Close).await;
    Ok(summary)
}
