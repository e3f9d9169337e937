//! A lean Engine.IO v4 / Socket.IO v5 client over WebSocket: one task per connection, small
//! buffers, pings answered inline. Events are handed to a callback as raw text (the `42…`
//! packet), so a scenario parses only what it needs.

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Local source addresses to spread connections over (one address reaches ~28k connections
/// to one destination before it runs out of ephemeral ports).
#[derive(Clone)]
pub struct Sources {
    addrs: Arc<Vec<IpAddr>>,
    next: Arc<AtomicUsize>,
}

impl Sources {
    /// `127.0.0.2` … for a loopback target; none (the kernel picks) otherwise.
    pub fn for_target(target: &SocketAddr, count: usize) -> Sources {
        let addrs = if target.ip().is_loopback() {
            (0..count.max(1))
                .map(|i| IpAddr::from([127, 0, 0, 2 + (i % 250) as u8]))
                .collect()
        } else {
            Vec::new()
        };
        Sources {
            addrs: Arc::new(addrs),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn pick(&self) -> Option<IpAddr> {
        if self.addrs.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.addrs[i % self.addrs.len()])
    }
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// One line saying why the server refused a Socket.IO CONNECT (`44{"message": ...}`), and what
/// to do about it.
pub fn explain_refusal(payload: &str) -> String {
    let message = serde_json::from_str::<hub_protocol::realtime::ConnectRefusal>(payload)
        .map(|r| r.message)
        .unwrap_or_else(|_| payload.to_owned());
    let hint = if message.contains("invalid token") {
        ": the tokens are not signed with the hub's secret; pass the hub's --data-dir (where it keeps jwt_secret) or its JWT_SECRET"
    } else if message.contains("expired") {
        ": the tokens expired; mint new ones"
    } else if message.contains("missing token") {
        ": no token was sent"
    } else {
        ""
    };
    format!("the server refused the connection ({message}){hint}")
}

/// A WebSocket to `url` on `target`, from the next source address, with a 4 KiB read buffer;
/// `recv_buffer` sets the socket's receive buffer (a small one makes a reader that stops
/// reading stall the server's writes at once).
pub async fn open_ws(
    target: SocketAddr,
    url: &str,
    sources: &Sources,
    recv_buffer: Option<u32>,
) -> anyhow::Result<Ws> {
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    if let Some(ip) = sources.pick() {
        socket
            .bind(SocketAddr::new(ip, 0))
            .context("bind source address")?;
    }
    let stream = tokio::time::timeout(Duration::from_secs(30), socket.connect(target))
        .await
        .context("tcp connect timed out")??;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)),
    )
    .await
    .context("websocket handshake timed out")??;
    Ok(ws)
}

/// Reads the Engine.IO open packet that starts a session.
pub async fn wait_open(ws: &mut Ws) -> anyhow::Result<()> {
    let open = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no open packet")?
        .context("closed before the open packet")??;
    anyhow::ensure!(
        open.to_text().is_ok_and(|t| t.starts_with('0')),
        "expected an Engine.IO open packet"
    );
    Ok(())
}

/// Sends a Socket.IO CONNECT to `/` with `token` and waits for the answer, answering pings;
/// `Some(payload)` when the server refused (`44…`).
pub async fn sio_connect(ws: &mut Ws, token: &str) -> anyhow::Result<Option<String>> {
    ws.send(Message::text(crate::wire::connect(token))).await?;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no answer to the handshake")?
            .context("closed during the handshake")??;
        let Message::Text(t) = msg else { continue };
        let t = t.as_str();
        if t == "2" {
            ws.send(Message::text("3")).await?;
        } else if t.starts_with("40") {
            return Ok(None);
        } else if let Some(refusal) = t.strip_prefix("44") {
            return Ok(Some(refusal.to_owned()));
        }
    }
}

/// Something to send on a connection.
pub enum Out {
    /// A raw Socket.IO packet (`42…`).
    Packet(String),
    Close,
}

pub struct Conn {
    pub tx: mpsc::Sender<Out>,
}

/// Opens a connection to `target` (host:port), joins namespace `/` with `token`, and runs it in
/// a task: `on_event` gets every text packet other than pings. Resolves once connected.
pub async fn connect<F>(
    target: SocketAddr,
    path: &str,
    token: &str,
    sources: &Sources,
    mut on_event: F,
) -> anyhow::Result<Conn>
where
    F: FnMut(&str) + Send + 'static,
{
    let url = format!("ws://{target}{path}?EIO=4&transport=websocket");
    let mut ws = open_ws(target, &url, sources, None).await?;
    wait_open(&mut ws).await?;
    if let Some(refusal) = sio_connect(&mut ws, token).await? {
        bail!("{}", explain_refusal(&refusal));
    }
    let (tx, mut rx) = mpsc::channel::<Out>(64);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(t))) => {
                        let t = t.as_str();
                        if t == "2" {
                            if ws.send(Message::text("3")).await.is_err() { return; }
                        } else if t == "1" || t.starts_with("41") {
                            on_event("__closed");
                            return;
                        } else {
                            on_event(t);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => { on_event("__closed"); return; }
                },
                out = rx.recv() => match out {
                    Some(Out::Packet(p)) => { if ws.send(Message::text(p)).await.is_err() { return; } }
                    Some(Out::Close) | None => { let _ = ws.close(None).await; return; }
                },
            }
        }
    });
    Ok(Conn { tx })
}
