//! `idle`: N connections held open. Reports the connect rate and the target's memory per
//! connection (from `/proc/<pid>/status` of its process, and the hub's `/metrics`).

use super::{Ctx, close_all, connect_many};
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
    pub hub_reported_connections: Option<u64>,
    pub dropped_during_hold: u64,
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
    let before = args.pid.and_then(rss_kib);
    let dropped = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (conns, failed) = connect_many(ctx, args.connections, args.rate, "connections", |i| {
        let dropped = dropped.clone();
        let handler = move |p: &str| {
            if p == "__closed" {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        };
        (
            ctx.tokens.mint(&format!("idle-{}", i % 1000), "user"),
            handler,
        )
    })
    .await;
    let connect_seconds = start.elapsed().as_secs_f64();
    let connected = args.connections - failed;
    // Let allocations settle before reading the target's memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = args.pid.and_then(rss_kib);
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
        target_kib_per_connection: match (before, after) {
            (Some(b), Some(a)) if connected > 0 => {
                Some(a.saturating_sub(b) as f64 / connected as f64)
            }
            _ => None,
        },
        hub_reported_connections: hub_reported,
        dropped_during_hold: dropped.load(Ordering::Relaxed),
    };
    close_all(conns).await;
    Ok(summary)
}
