//! Graceful drain: what a node does between SIGTERM and its exit, so that a rolling restart or
//! a scale-down loses nothing and moves its clients without a thundering herd.
//!
//! 1. It stops accepting: the listening socket is closed (new connections are refused, so a
//!    load balancer and clients go to another node at once) and `/api/health` answers `503
//!    draining` on connections still open.
//! 2. It hands its connections back spread evenly over `HUB_DRAIN_SECONDS`, in random order
//!    (the transports do it, see `realtime::hand_back`):
//!    each Socket.IO socket hears `session:reconnect {reason: "draining", after_ms}` (a random
//!    delay up to `HUB_DRAIN_JITTER`, which the SDK waits before connecting again) and is
//!    disconnected; each `/yjs` connection is closed with 1012 (service restart), which
//!    y-websocket follows by reconnecting. A client comes back on another node and resumes
//!    (chat from its last `seq`, documents from their state vector).
//! 3. It finishes what it committed (every acknowledged write is committed before its ack;
//!    what is still queued runs), says goodbye on the bus (the other nodes drop its presence
//!    at once) and exits.

use axum::serve::Listener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Whether this node is draining; closes the listener when it starts.
pub struct Drain {
    draining: AtomicBool,
    closed: watch::Sender<bool>,
    /// Set once the listener's socket is closed.
    gone: Arc<watch::Sender<bool>>,
}

impl Drain {
    pub fn new() -> Arc<Drain> {
        Arc::new(Drain {
            draining: AtomicBool::new(false),
            closed: watch::channel(false).0,
            gone: Arc::new(watch::channel(false).0),
        })
    }

    /// Starts draining: health says so, and the listener closes; returns once it is closed
    /// (at most a second: a node serving without a [`DrainingListener`] has none to close).
    pub async fn begin(&self) {
        self.draining.store(true, Ordering::Release);
        let mut gone = self.gone.subscribe();
        self.closed.send_replace(true);
        let _ = tokio::time::timeout(Duration::from_secs(1), gone.wait_for(|g| *g)).await;
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// `listener`, closed when the drain begins.
    pub fn listener<L: Listener>(&self, listener: L) -> DrainingListener<L> {
        DrainingListener {
            addr: listener.local_addr().ok(),
            inner: Some(listener),
            closed: self.closed.subscribe(),
            gone: self.gone.clone(),
        }
    }
}

/// A listener that is dropped (its socket closed, new connections refused) once the drain
/// begins; it accepts nothing after.
pub struct DrainingListener<L: Listener> {
    inner: Option<L>,
    addr: Option<L::Addr>,
    closed: watch::Receiver<bool>,
    gone: Arc<watch::Sender<bool>>,
}

impl<L: Listener> Listener for DrainingListener<L>
where
    L::Addr: Clone,
{
    type Io = L::Io;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        if let Some(inner) = self.inner.as_mut() {
            tokio::select! {
                accepted = inner.accept() => return accepted,
                _ = self.closed.wait_for(|closed| *closed) => {}
            }
            self.inner = None;
            self.gone.send_replace(true);
            tracing::info!("draining: no longer accepting connections");
        }
        std::future::pending().await
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.addr
            .clone()
            .ok_or_else(|| std::io::Error::other("the listener has no address"))
    }
}

/// When, from the start of the drain, the `i`-th of `n` connections is handed back: evenly
/// over `window`, the first at once.
pub fn slot(i: usize, n: usize, window: Duration) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    window.mul_f64(i as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_handed_back_evenly_over_the_window() {
        let w = Duration::from_secs(10);
        // (i, n, when)
        let table = [
            (0, 1, 0),
            (0, 4, 0),
            (1, 4, 2_500),
            (2, 4, 5_000),
            (3, 4, 7_500),
            (999, 1_000, 9_990),
            (0, 0, 0),
        ];
        for (i, n, ms) in table {
            assert_eq!(slot(i, n, w), Duration::from_millis(ms), "{i} of {n}");
        }
        assert_eq!(slot(5, 10, Duration::ZERO), Duration::ZERO);
    }
}
