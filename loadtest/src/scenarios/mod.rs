//! Scenarios. Each connects what it needs, runs for a bounded time, and returns a summary.

pub mod abuse;
pub mod chat;
pub mod docs;
pub mod events;
pub mod idle;
pub mod presence;
pub mod server_api;

use crate::client::{self as conn, Conn, Out, Sources};
use hub_protocol::realtime::client;
use hub_protocol::rooms::{RoomJoin, RoomJoined};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// What every scenario shares: where to connect and how.
#[derive(Clone)]
pub struct Ctx {
    /// The first target: REST setup goes there.
    pub base: String,
    pub addr: SocketAddr,
    /// Every target (the nodes of a cluster); clients are spread over them.
    pub addrs: Vec<SocketAddr>,
    pub path: String,
    pub sources: Sources,
    pub tokens: crate::setup::Tokens,
    /// The target is the hub (REST setup, memberships) rather than the Node peer.
    pub is_hub: bool,
    /// The target is the stock `@y/websocket-server` (documents only, at `/<name>`).
    pub is_y_websocket: bool,
    pub quiet: bool,
}

impl Ctx {
    /// The target of client `i` when clients are spread over all targets.
    pub fn addr_for(&self, i: usize) -> SocketAddr {
        self.addrs[i % self.addrs.len().max(1)]
    }

    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        bar
    }
}

/// Signals the acknowledgement of the join (ack id 0).
#[derive(Default)]
pub struct Joined {
    done: AtomicBool,
    /// The join was accepted (not refused).
    accepted: AtomicBool,
    notify: Notify,
}

impl Joined {
    pub fn on_packet(&self, packet: &str) {
        if crate::wire::ack_id(packet) == Some(0) {
            let accepted = matches!(
                crate::wire::ack::<RoomJoined>(packet),
                Some((_, crate::wire::Answer::Ok(_)))
            );
            self.accepted.store(accepted, Ordering::Release);
            self.done.store(true, Ordering::Release);
            self.notify.notify_waiters();
        }
    }

    /// Waits up to `within` for the join's answer; true when the join was accepted.
    pub async fn wait(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !self.done.load(Ordering::Acquire) {
            if tokio::time::timeout_at(deadline, self.notify.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        self.accepted.load(Ordering::Acquire)
    }
}

/// Connects `n` clients at `rate` per second (with at most 256 handshakes in flight), calling
/// `make(i)` for the token and event handler of client `i`. Returns the connections in order;
/// failures are counted, not fatal.
pub async fn connect_many<F, H>(
    ctx: &Ctx,
    n: usize,
    rate: f64,
    what: &str,
    make: F,
) -> (Vec<Option<Conn>>, usize)
where
    F: Fn(usize) -> (String, H),
    H: FnMut(&str) + Send + 'static,
{
    connect_many_on(ctx, &ctx.addrs, n, rate, what, make).await
}

/// [`connect_many`] with client `i` on `targets[i % targets.len()]`.
pub async fn connect_many_on<F, H>(
    ctx: &Ctx,
    targets: &[SocketAddr],
    n: usize,
    rate: f64,
    what: &str,
    make: F,
) -> (Vec<Option<Conn>>, usize)
where
    F: Fn(usize) -> (String, H),
    H: FnMut(&str) + Send + 'static,
{
    connect_many_where(ctx, targets, n, rate, what, |i| i, make).await
}

/// [`connect_many_on`], connection `i` to `targets[place(i) % targets.len()]`.
pub async fn connect_many_where<F, H>(
    ctx: &Ctx,
    targets: &[SocketAddr],
    n: usize,
    rate: f64,
    what: &str,
    place: impl Fn(usize) -> usize,
    make: F,
) -> (Vec<Option<Conn>>, usize)
where
    F: Fn(usize) -> (String, H),
    H: FnMut(&str) + Send + 'static,
{
    let targets = if targets.is_empty() {
        std::slice::from_ref(&ctx.addr)
    } else {
        targets
    };
    let bar = ctx.bar(n as u64, what);
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(n);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut next = tokio::time::Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(next).await;
        next += interval;
        let (token, handler) = make(i);
        let permit = gate.clone().acquire_owned().await.expect("semaphore open");
        let (addr, path, sources, bar) = (
            targets[place(i) % targets.len()],
            ctx.path.clone(),
            ctx.sources.clone(),
            bar.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let conn = conn::connect(addr, &path, &token, &sources, handler).await;
            drop(permit);
            bar.inc(1);
            conn
        }));
    }
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(c)) => conns.push(Some(c)),
            Ok(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
                conns.push(None);
            }
            Err(_) => {
                failed += 1;
                conns.push(None);
            }
        }
    }
    bar.finish();
    if let Some(e) = &first_error {
        eprintln!("{failed} connections failed; first error: {e}");
    }
    if n > 0 && failed == n {
        let mut all = ALL_FAILED.lock().unwrap_or_else(|e| e.into_inner());
        all.get_or_insert_with(|| {
            format!(
                "every one of the {n} {what} failed to connect; first error: {}",
                first_error.unwrap_or_else(|| "a connecting task died".into())
            )
        });
    }
    (conns, failed)
}

/// Set when every connection of a batch failed: the run then fails (exit code 1), whatever
/// its report says.
static ALL_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Why the run failed because no connection got through, if that happened.
pub fn all_failed() -> Option<String> {
    ALL_FAILED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Sends `room:join` (ack id 0) on each connection and waits for the acks.
pub async fn join_all(
    conns: &[Option<Conn>],
    rooms: impl Fn(usize) -> String,
    joined: &[Arc<Joined>],
) -> usize {
    join_paced(conns, rooms, joined, None).await
}

/// [`join_all`], sending at most `rate` joins a second when given (as clients that join right
/// after they connect would), all at once otherwise.
pub async fn join_paced(
    conns: &[Option<Conn>],
    rooms: impl Fn(usize) -> String,
    joined: &[Arc<Joined>],
    rate: Option<f64>,
) -> usize {
    let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1.0)));
    let mut next = tokio::time::Instant::now();
    for (i, c) in conns.iter().enumerate() {
        if let Some(c) = c {
            if let Some(interval) = interval {
                tokio::time::sleep_until(next).await;
                next += interval;
            }
            let join = RoomJoin {
                room: rooms(i).into(),
                since: None,
            };
            let packet = crate::wire::emit(Some(0), client::RoomJoinEvent, &join);
            let _ = c.tx.send(Out::Packet(packet)).await;
        }
    }
    let mut ok = 0;
    for (c, j) in conns.iter().zip(joined) {
        if c.is_some() && j.wait(Duration::from_secs(30)).await {
            ok += 1;
        }
    }
    ok
}

pub async fn close_all(conns: Vec<Option<Conn>>) {
    for c in conns.into_iter().flatten() {
        let _ = c.tx.send(Out::Close).await;
    }
}
