//! Accepted connections with a write timeout.
//!
//! A peer that stops reading fills its TCP window; a writer then waits in `poll_write` for as
//! long as the peer sleeps, and code above it that awaits the write (engineioxide's socket
//! writer, the `/yjs` writer) never gets to see a cancellation, a heartbeat failure or an
//! eviction. [`TimedIo`] bounds that wait: a write (or flush) that makes no progress for the
//! configured time fails with `TimedOut`, and the connection is dead from then on: every later
//! read and write fails at once, so every task using it ends promptly and its memory goes.
//!
//! Invariants:
//! - the timer runs only while a write is pending; any progress resets it;
//! - once timed out, the stream never blocks again (reads and writes error immediately);
//! - nothing is allocated per connection until a write first stalls.

use axum::serve::Listener;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A listener whose connections carry a write timeout (see the module docs).
pub struct TimedListener<L> {
    inner: L,
    write_timeout: Duration,
}

impl<L> TimedListener<L> {
    pub fn new(inner: L, write_timeout: Duration) -> Self {
        TimedListener {
            inner,
            write_timeout,
        }
    }
}

impl<L: Listener> Listener for TimedListener<L> {
    type Io = TimedIo<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (TimedIo::new(io, self.write_timeout), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The peer's address of a connection accepted by a [`TimedListener`], for handlers that need
/// it (`ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl<L> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TimedListener<L>>>
    for PeerAddr
where
    L: Listener<Addr = std::net::SocketAddr>,
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TimedListener<L>>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// A stream whose writes time out when the peer stops reading.
pub struct TimedIo<T> {
    inner: T,
    timeout: Duration,
    /// The stall timer, allocated at the first stall and reused (reset) at the next ones.
    stall: Option<Pin<Box<Sleep>>>,
    /// Whether the timer runs (a write is pending).
    armed: bool,
    /// The task waiting to read, woken when the stream dies so that it sees the error at once
    /// rather than when (if ever) the peer sends something.
    reader: Option<Waker>,
    dead: bool,
}

impl<T> TimedIo<T> {
    pub fn new(inner: T, timeout: Duration) -> Self {
        TimedIo {
            inner,
            timeout,
            stall: None,
            armed: false,
            reader: None,
            dead: false,
        }
    }

    fn timed_out() -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "peer stopped reading: write timed out",
        )
    }

    /// Runs one write-side poll under the stall timer.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut T, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if self.dead {
            return Poll::Ready(Err(Self::timed_out()));
        }
        match poll(&mut self.inner, cx) {
            Poll::Ready(result) => {
                self.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                if !self.armed {
                    let deadline = tokio::time::Instant::now() + timeout;
                    match &mut self.stall {
                        Some(stall) => stall.as_mut().reset(deadline),
                        None => self.stall = Some(Box::pin(tokio::time::sleep_until(deadline))),
                    }
                    self.armed = true;
                }
                let Some(stall) = self.stall.as_mut() else {
                    return Poll::Pending;
                };
                ready!(stall.as_mut().poll(cx));
                self.stall = None;
                self.armed = false;
                self.dead = true;
                if let Some(reader) = self.reader.take() {
                    reader.wake();
                }
                metrics::counter!("hub_write_timeouts_total").increment(1);
                tracing::debug!("closing a connection whose peer stopped reading");
                Poll::Ready(Err(Self::timed_out()))
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead {
            return Poll::Ready(Err(Self::timed_out()));
        }
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if polled.is_pending()
            && !this
                .reader
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
        {
            this.reader = Some(cx.waker().clone());
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard(cx, |io, cx| Pin::new(io).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard(cx, |io, cx| Pin::new(io).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .guard(cx, |io, cx| Pin::new(io).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead {
            return Poll::Ready(Ok(()));
        }
        this.guard(cx, |io, cx| Pin::new(io).poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_that_makes_no_progress_times_out_and_the_stream_stays_dead() {
        // A 64-byte pipe whose reader never reads.
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = TimedIo::new(a, Duration::from_secs(10));
        io.write_all(&[1; 64]).await.unwrap();
        let started = tokio::time::Instant::now();
        let err = io.write_all(&[2; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        // Dead from now on, even though the peer now reads and writes.
        let mut got = [0; 64];
        b.read_exact(&mut got).await.unwrap();
        b.write_all(b"hello").await.unwrap();
        let mut buf = [0; 8];
        assert_eq!(
            io.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
        assert_eq!(
            io.write(&[3]).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_waiting_for_data_hears_of_the_timeout_at_once() {
        let (a, _b) = tokio::io::duplex(64);
        let (mut rd, mut wr) = tokio::io::split(TimedIo::new(a, Duration::from_secs(10)));
        // The reader waits for data that never comes; the writer fills the pipe and stalls.
        let reader = tokio::spawn(async move {
            let mut buf = [0; 8];
            rd.read(&mut buf).await
        });
        let err = wr.write_all(&[1; 128]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let read = tokio::time::timeout(Duration::from_secs(1), reader)
            .await
            .expect("the reader was woken")
            .unwrap();
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn progress_resets_the_timer() {
        let (a, mut b) = tokio::io::duplex(16);
        let mut io = TimedIo::new(a, Duration::from_secs(10));
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0; 16];
            // Reads a little every 6 s: each stall is shorter than the timeout.
            while total < 64 {
                tokio::time::sleep(Duration::from_secs(6)).await;
                total += b.read(&mut buf).await.unwrap();
            }
            total
        });
        io.write_all(&[7; 64]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 64);
    }
}
