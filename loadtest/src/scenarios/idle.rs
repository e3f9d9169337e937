//! `idle`: N connections held open. Reports the connect rate and the target's memory per
//! connection (from `/proc/<pid>/status` of its process, and the hub's `/metrics`). With
//! `--rooms`, every connection is a user of its own who joins one of the rooms (and so has
//! presence there) before the memory is read.

use super::{Ctx, Joined, close_all, connect_many, join_paced};
use clap::Args;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Connections opened per second.
    #[arg(long, default_value_t = 2000.0)]
    pub rate: f64,
    /// Seconds to hold them open once all are connected.
    #[arg(long, default_value_t = 10)]
    pub hold: u64,
    /// The target's process id, to read its memory.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Rooms to join (0: stay bare handshakes). Connection `i` is user `idle-{i}` and joins
    /// room `i % rooms`; on the hub each room is a venture with those users as members.
    #[arg(long, default_value_t = 0)]
    pub rooms: usize,
    /// Seconds to wait after the last handshake (and after the last join) before reading the
    /// target's memory: long enough for what the burst freed to go back to the system (the
    /// hub trims every 10 s).
    #[arg(long, default_value_t = 2)]
    pub settle: u64,
    /// Joins sent per second (with `--rooms`).
    #[arg(long, default_value_t = 1000.0)]
    pub join_rate: f64,
}

#[derive(Debug, Serialize)]
pub struct IdleSummary {
    pub connected: usize,
    pub failed: usize,
    pub connect_seconds: f64,
    pub connects_per_second: f64,
    pub target_rss_before_kib: Option<u64>,
    pub target_rss_after_kib: Option<u64>,
    pub target_kib_per_connection: Option<f64>,
    /// Rooms joined (0: bare handshakes).
    pub rooms: usize,
    /// Connections whose join was accepted.
    pub joined: usize,
    /// Memory per connection after the handshakes, before the joins (with `--rooms`).
    pub target_kib_per_connection_before_join: Option<f64>,
    pub hub_reported_connections: Option<u64>,
    pub dropped_during_hold: u64,
}

fn user(i: usize) -> String {
    format!("idle-{i}")
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn hub_connections(base: &str) -> Option<u64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with("hub_socket_connections "))?;
    line.rsplit(' ')
        .next()?
        .parse::<f64>()
        .ok()
        .map(|v| v as u64)
}

pub async fn run(ctx: &Ctx, args: &IdleArgs) -> anyhow::Result<IdleSummary> {
    let n = args.connections;
    let rooms: Vec<String> = if args.rooms == 0 {
        Vec::new()
    } else if ctx.is_hub {
        crate::setup::hub_rooms(&ctx.base, &ctx.tokens, args.rooms, |r| {
            (r..n).step_by(args.rooms).map(user).collect()
        })
        .await?
    } else {
        (0..args.rooms).map(|r| format!("room-{r}")).collect()
    };
    let joined: Vec<Arc<Joined>> = (0..n).map(|_| Arc::new(Joined::default())).collect();
    let before = args.pid.and_then(rss_kib);
    let dropped = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (conns, failed) = connect_many(ctx, n, args.rate, "connections", |i| {
        let (dropped, joined) = (dropped.clone(), joined[i].clone());
        let handler = move |p: &str| {
            if p == "__closed" {
                dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                joined.on_packet(p);
            }
        };
        let name = if rooms.is_empty() {
            format!("idle-{}", i % 1000)
        } else {
            user(i)
        };
        (ctx.tokens.mint(&name, "user"), handler)
    })
    .await;
    let connect_seconds = start.elapsed().as_secs_f64();
    let connected = n - failed;
    let per_connection = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if connected > 0 => Some(a.saturating_sub(b) as f64 / connected as f64),
        _ => None,
    };
    // Let allocations settle before reading the target's memory.
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let mut after = args.pid.and_then(rss_kib);
    let (mut ok, mut before_join) = (0, None);
    if !rooms.is_empty() {
        before_join = per_connection(before, after);
        // Paced, as clients that join when they connect would be.
        ok = join_paced(
            &conns,
            |i| rooms[i % rooms.len()].clone(),
            &joined,
            Some(args.join_rate),
        )
        .await;
        if !ctx.quiet {
            eprintln!("{ok} connections joined their rooms");
        }
        // The presence of each join reaches the room; let that fan-out drain first.
        tokio::time::sleep(Duration::from_secs(args.settle.max(5))).await;
        after = args.pid.and_then(rss_kib);
    }
    let hub_reported = if ctx.is_hub {
        hub_connections(&ctx.base).await
    } else {
        None
    };
    let bar = ctx.bar(args.hold, "holding");
    for _ in 0..args.hold {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.inc(1);
    }
    bar.finish();
    let summary = IdleSummary {
        connected,
        failed,
        connect_seconds,
        connects_per_second: connected as f64 / connect_seconds,
        target_rss_before_kib: before,
        target_rss_after_kib: after,
        target_kib_per_connection: per_connection(before, after),
        rooms: rooms.len(),
        joined: ok,
        target_kib_per_connection_before_join: before_join,
        hub_reported_connections: hub_reported,
        dropped_during_hold: dropped.load(Ordering::Relaxed),
    };
    close_all(conns).await;
    Ok(summary)
}
