//! `abuse` (hub only): the target's memory under hostile clients, each kind in turn.
//!
//! - `stalled`: Socket.IO clients with a tiny receive window ask for large echoes and never
//!   read; the hub must close them (its write timeout) and give their memory back.
//! - `handshakes`: Engine.IO sessions that never complete a Socket.IO CONNECT (half send a
//!   forged token); the hub must close them after its connect timeout.
//! - `awareness`: viewers flood a document with 200 KB awareness states and bursts of small
//!   ones while two editors work; the editors must stay connected.
//!
//! Each kind reports the target's RSS before, at its peak, and after the hub closed the
//! abusers (from `/proc/<pid>/status`).

use crate::client::{Ws, open_ws, sio_connect, wait_open};
use crate::scenarios::idle::rss_kib;
use anyhow::Context;
use clap::{Args, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use hub_protocol::docs::{CreateDoc, DocInfo};
use hub_protocol::rest::PutMember;
use hub_protocol::{Role, UserId};
use hub_rooms::doc::awareness_frame;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Stalled,
    Handshakes,
    Awareness,
    All,
}

#[derive(Debug, Clone, Args)]
pub struct AbuseArgs {
    /// Which abuse to run.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: Kind,
    /// The hub's process id, to read its memory.
    #[arg(long)]
    pub pid: u32,
    /// Stalled readers.
    #[arg(long, default_value_t = 50)]
    pub stalled: usize,
    /// Echo requests of 500 KB each that a stalled reader leaves unread.
    #[arg(long, default_value_t = 8)]
    pub echoes: usize,
    /// Seconds the stalled readers read nothing (longer than the hub's write timeout).
    #[arg(long, default_value_t = 12)]
    pub stall_seconds: u64,
    /// Sessions that never connect.
    #[arg(long, default_value_t = 20_000)]
    pub handshakes: usize,
    /// Sessions opened per second.
    #[arg(long, default_value_t = 2_000.0)]
    pub handshake_rate: f64,
    /// Viewers flooding awareness.
    #[arg(long, default_value_t = 10)]
    pub flooders: usize,
    /// Seconds of awareness flood.
    #[arg(long, default_value_t = 10)]
    pub flood_seconds: u64,
    /// Longest wait, in seconds, for the hub to close the abusers.
    #[arg(long, default_value_t = 60)]
    pub settle: u64,
    /// Seconds to rest once they are closed before reading the memory "after" (the allocator
    /// returns freed memory to the system with a delay).
    #[arg(long, default_value_t = 15)]
    pub rest: u64,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub rss_after_kib: u64,
}

#[derive(Debug, Serialize)]
pub struct StalledSummary {
    pub stalled_readers: usize,
    pub unread_mib_asked: f64,
    pub closed_by_hub: usize,
    pub seconds_to_close_all: f64,
    pub memory: Memory,
}

#[derive(Debug, Serialize)]
pub struct HandshakeSummary {
    pub sessions: usize,
    pub failed_to_open: usize,
    pub closed_by_hub: usize,
    pub seconds: f64,
    pub memory: Memory,
}

#[derive(Debug, Serialize)]
pub struct AwarenessSummary {
    pub flooders: usize,
    pub large_states_sent: u64,
    pub small_states_sent: u64,
    pub flooders_closed_1009: u64,
    pub awareness_relayed_to_an_editor: u64,
    pub editors_still_connected: usize,
    pub memory: Memory,
}

#[derive(Debug, Default, Serialize)]
pub struct AbuseSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalled: Option<StalledSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshakes: Option<HandshakeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awareness: Option<AwarenessSummary>,
}

/// Samples the target's RSS every 50 ms and keeps the peak until stopped.
struct PeakRss {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    before: u64,
    pid: u32,
}

impl PeakRss {
    fn start(pid: u32) -> anyhow::Result<PeakRss> {
        let before = rss_kib(pid).context("cannot read the target's memory (--pid)")?;
        let (stop, peak) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(before)),
        );
        let (s, p) = (stop.clone(), peak.clone());
        tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                if let Some(now) = rss_kib(pid) {
                    p.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Ok(PeakRss {
            stop,
            peak,
            before,
            pid,
        })
    }

    /// Stops sampling after letting the allocator settle for `rest`.
    async fn finish(self, rest: u64) -> Memory {
        tokio::time::sleep(Duration::from_secs(rest)).await;
        self.stop.store(true, Ordering::Relaxed);
        Memory {
            rss_before_kib: self.before,
            rss_peak_kib: self.peak.load(Ordering::Relaxed),
            rss_after_kib: rss_kib(self.pid).unwrap_or(0),
        }
    }
}

/// Reads until the server ends the stream; true when it did within `within`.
async fn ends_within(ws: &mut Ws, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Opens an Engine.IO session (reads the open packet); with `token`, connects to `/`.
async fn session(
    ctx: &super::Ctx,
    token: Option<&str>,
    recv_buffer: Option<u32>,
) -> anyhow::Result<Ws> {
    let url = format!("ws://{}{}?EIO=4&transport=websocket", ctx.addr, ctx.path);
    let mut ws = open_ws(ctx.addr, &url, &ctx.sources, recv_buffer).await?;
    wait_open(&mut ws).await?;
    if let Some(token) = token {
        // Accepted or refused, both are what the scenario wants.
        sio_connect(&mut ws, token).await?;
    }
    Ok(ws)
}

async fn stalled(ctx: &super::Ctx, args: &AbuseArgs) -> anyhow::Result<StalledSummary> {
    let rss = PeakRss::start(args.pid)?;
    let payload = vec![7u8; 500_000];
    let mut readers = Vec::new();
    for i in 0..args.stalled {
        let token = ctx.tokens.mint(&format!("stalled-{i}"), "user");
        let mut ws = session(ctx, Some(&token), Some(4096)).await?;
        for id in 0..args.echoes {
            ws.send(Message::text(format!(
                r#"451-{id}["sys:echo",{{"data":{{"_placeholder":true,"num":0}}}}]"#
            )))
            .await?;
            ws.send(Message::binary(payload.clone())).await?;
        }
        readers.push(ws);
    }
    let start = Instant::now();
    // They never read; once the hub has given up on them, reading shows the end of the stream.
    let mut closed = 0;
    let settle = Duration::from_secs(args.settle);
    let mut waits = Vec::new();
    let stall = args.stall_seconds;
    for mut ws in readers {
        waits.push(tokio::spawn(async move {
            // Read nothing until the hub should have timed out, then drain to the end.
            tokio::time::sleep(Duration::from_secs(stall)).await;
            ends_within(&mut ws, settle).await
        }));
    }
    for w in waits {
        closed += usize::from(w.await.unwrap_or(false));
    }
    Ok(StalledSummary {
        stalled_readers: args.stalled,
        unread_mib_asked: (args.stalled * args.echoes * payload.len()) as f64 / 1048576.0,
        closed_by_hub: closed,
        seconds_to_close_all: start.elapsed().as_secs_f64(),
        memory: rss.finish(args.rest).await,
    })
}

async fn handshakes(ctx: &super::Ctx, args: &AbuseArgs) -> anyhow::Result<HandshakeSummary> {
    let rss = PeakRss::start(args.pid)?;
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / args.handshake_rate.max(1.0));
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    let mut next = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    let settle = Duration::from_secs(args.settle);
    for i in 0..args.handshakes {
        tokio::time::sleep_until(next).await;
        next += interval;
        let permit = gate.clone().acquire_owned().await?;
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let forged = (i % 2 == 0).then_some("forged");
            let opened = session(&ctx, forged, None).await;
            drop(permit);
            match opened {
                Ok(mut ws) => Some(ends_within(&mut ws, settle).await),
                Err(_) => None,
            }
        }));
    }
    let (mut failed, mut closed) = (0, 0);
    for t in tasks {
        match t.await.ok().flatten() {
            None => failed += 1,
            Some(true) => closed += 1,
            Some(false) => {}
        }
    }
    Ok(HandshakeSummary {
        sessions: args.handshakes,
        failed_to_open: failed,
        closed_by_hub: closed,
        seconds: start.elapsed().as_secs_f64(),
        memory: rss.finish(args.rest).await,
    })
}

async fn awareness(ctx: &super::Ctx, args: &AbuseArgs) -> anyhow::Result<AwarenessSummary> {
    let http = reqwest::Client::new();
    let admin = ctx.tokens.mint("loadtest-admin", "admin");
    let rooms = crate::setup::hub_rooms(&ctx.base, &ctx.tokens, 1, |_| {
        vec!["aw-editor-0".into(), "aw-editor-1".into()]
    })
    .await?;
    let venture = rooms[0].trim_start_matches("venture:");
    for i in 0..args.flooders {
        http.post(format!("{}/api/v1/ventures/{venture}/members", ctx.base))
            .bearer_auth(&admin)
            .json(&PutMember {
                user_id: UserId(format!("aw-viewer-{i}")),
                role: Role::Viewer,
            })
            .send()
            .await?
            .error_for_status()?;
    }
    let doc: DocInfo = http
        .post(format!("{}/api/v1/docs", ctx.base))
        .bearer_auth(&admin)
        .json(&CreateDoc {
            room: rooms[0].as_str().into(),
            title: "awareness flood".into(),
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .context("the hub's answer is not a document")?;
    let doc = doc.id;
    let url = |user: &str| {
        format!(
            "ws://{}/yjs/{doc}?token={}",
            ctx.addr,
            ctx.tokens.mint(user, "user")
        )
    };
    let rss = PeakRss::start(args.pid)?;
    let stop = Arc::new(AtomicBool::new(false));
    let relayed = Arc::new(AtomicU64::new(0));
    let mut editors = Vec::new();
    for e in 0..2 {
        let mut ws = open_ws(
            ctx.addr,
            &url(&format!("aw-editor-{e}")),
            &ctx.sources,
            None,
        )
        .await?;
        let (stop, relayed) = (stop.clone(), relayed.clone());
        editors.push(tokio::spawn(async move {
            // Reads everything; true when still connected at the end.
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
                    Err(_) => continue,
                    Ok(Some(Ok(Message::Binary(b)))) => {
                        if b.first() == Some(&1) && e == 0 {
                            relayed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(None | Some(Err(_))) => return false,
                }
            }
            true
        }));
    }
    let (large, small, closed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(200_000));
    let deadline = Instant::now() + Duration::from_secs(args.flood_seconds);
    let mut flooders = Vec::new();
    for f in 0..args.flooders {
        let (ctx, url, big) = (ctx.clone(), url(&format!("aw-viewer-{f}")), big.clone());
        let (large, small, closed) = (large.clone(), small.clone(), closed.clone());
        flooders.push(tokio::spawn(async move {
            let client = 1_000_000 + f as u64;
            while Instant::now() < deadline {
                let Ok(ws) = open_ws(ctx.addr, &url, &ctx.sources, None).await else {
                    continue;
                };
                let (mut tx, mut rx) = ws.split();
                // Drain what the hub sends, and notice its close.
                let reader = tokio::spawn(async move {
                    while let Some(Ok(msg)) = rx.next().await {
                        if let Message::Close(Some(frame)) = msg {
                            return u16::from(frame.code) == 1009;
                        }
                    }
                    false
                });
                for i in 0..200u64 {
                    let frame = awareness_frame(client, &format!(r#"{{"n":{i}}}"#));
                    if tx.send(Message::binary(frame)).await.is_err() {
                        break;
                    }
                    small.fetch_add(1, Ordering::Relaxed);
                }
                if tx
                    .send(Message::binary(awareness_frame(client, &big)))
                    .await
                    .is_ok()
                {
                    large.fetch_add(1, Ordering::Relaxed);
                }
                if tokio::time::timeout(Duration::from_secs(5), reader)
                    .await
                    .is_ok_and(|r| r.unwrap_or(false))
                {
                    closed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for f in flooders {
        let _ = f.await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut kept = 0;
    for e in editors {
        kept += usize::from(e.await.unwrap_or(false));
    }
    Ok(AwarenessSummary {
        flooders: args.flooders,
        large_states_sent: large.load(Ordering::Relaxed),
        small_states_sent: small.load(Ordering::Relaxed),
        flooders_closed_1009: closed.load(Ordering::Relaxed),
        awareness_relayed_to_an_editor: relayed.load(Ordering::Relaxed),
        editors_still_connected: kept,
        memory: rss.finish(args.rest).await,
    })
}

pub async fn run(ctx: &super::Ctx, args: &AbuseArgs) -> anyhow::Result<AbuseSummary> {
    anyhow::ensure!(ctx.is_hub, "the abuse scenario needs the hub");
    let mut summary = AbuseSummary::default();
    if matches!(args.kind, Kind::Stalled | Kind::All) {
        summary.stalled = Some(stalled(ctx, args).await?);
    }
    if matches!(args.kind, Kind::Handshakes | Kind::All) {
        summary.handshakes = Some(handshakes(ctx, args).await?);
    }
    if matches!(args.kind, Kind::Awareness | Kind::All) {
        summary.awareness = Some(awareness(ctx, args).await?);
    }
    Ok(summary)
}
