//! A minimal Engine.IO v4 / Socket.IO v5 client for protocol tests: raw packets over
//! WebSocket (tokio-tungstenite) and long-polling (reqwest), so tests can send exactly the
//! bytes the protocol documents describe, malformed ones included.

use super::WAIT;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Closed,
}

pub struct WsClient {
    pub ws: Ws,
    pub sid: String,
    pub open: Value,
    /// Answer server pings (`2`) with pongs (`3`) while receiving.
    pub auto_pong: bool,
}

pub fn ws_url(addr: SocketAddr, query: &str) -> String {
    format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{query}")
}

impl WsClient {
    /// Opens an Engine.IO session over WebSocket and reads its open packet.
    pub async fn open(addr: SocketAddr, query: &str) -> WsClient {
        let (ws, _) =
            tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(ws_url(addr, query)))
                .await
                .expect("ws connect timed out")
                .expect("ws connect");
        WsClient::open_on(ws).await
    }

    /// Like [`WsClient::open`] over a socket whose receive window is tiny, so that the server
    /// fills it at once when this client stops reading.
    pub async fn open_tiny_window(addr: SocketAddr) -> WsClient {
        WsClient::open_on(tiny_window_ws(addr, &ws_url(addr, "")).await).await
    }

    /// Connects to namespace `/` with `token` over a tiny receive window.
    pub async fn connected_tiny_window(addr: SocketAddr, token: &str) -> WsClient {
        let mut c = WsClient::open_tiny_window(addr).await;
        c.send(&format!("40{}", serde_json::json!({ "token": token })))
            .await;
        let answer = c.recv_text().await;
        assert!(
            answer.starts_with("40{"),
            "expected a connect, got {answer}"
        );
        c
    }

    async fn open_on(ws: Ws) -> WsClient {
        let mut client = WsClient {
            ws,
            sid: String::new(),
            open: Value::Null,
            auto_pong: true,
        };
        let open = client.recv_text().await;
        let json = open
            .strip_prefix('0')
            .unwrap_or_else(|| panic!("expected an open packet, got {open:?}"));
        client.open = serde_json::from_str(json).expect("open packet json");
        client.sid = client.open["sid"].as_str().expect("sid").to_owned();
        client
    }

    /// Opens a session and connects to namespace `/` with `token`; returns the client and the
    /// server's answer (`40{...}` or `44{...}`).
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> (WsClient, String) {
        let mut c = WsClient::open(addr, "").await;
        let auth = match token {
            Some(t) => serde_json::json!({ "token": t }).to_string(),
            None => String::new(),
        };
        c.send(&format!("40{auth}")).await;
        let answer = c.recv_text().await;
        (c, answer)
    }

    /// Connects with `token` and asserts the connection was accepted.
    pub async fn connected(addr: SocketAddr, token: &str) -> WsClient {
        let (c, answer) = WsClient::connect(addr, Some(token)).await;
        assert!(
            answer.starts_with("40{"),
            "expected a connect, got {answer}"
        );
        c
    }

    pub async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .expect("ws send");
    }

    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.ws.send(Message::binary(data)).await.expect("ws send");
    }

    /// The next frame (pings answered when `auto_pong`), or `Closed`.
    pub async fn recv(&mut self) -> Frame {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match next {
                Some(Ok(Message::Text(t))) => {
                    if self.auto_pong && t.as_str() == "2" {
                        self.send("3").await;
                        continue;
                    }
                    // The engine's close packet: the server ends the session.
                    if t.as_str() == "1" {
                        return Frame::Closed;
                    }
                    return Frame::Text(t.as_str().to_owned());
                }
                Some(Ok(Message::Binary(b))) => return Frame::Binary(b.to_vec()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Frame::Closed,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame if one comes within `within`.
    pub async fn recv_within(&mut self, within: std::time::Duration) -> Option<Frame> {
        let saved = self.auto_pong;
        let frame = tokio::time::timeout(within, self.recv()).await.ok();
        self.auto_pong = saved;
        frame
    }

    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Frame::Text(t) => t,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    pub async fn recv_binary(&mut self) -> Vec<u8> {
        match self.recv().await {
            Frame::Binary(b) => b,
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Waits for the connection to close, skipping whatever comes before.
    pub async fn expect_closed(&mut self) {
        loop {
            if self.recv().await == Frame::Closed {
                return;
            }
        }
    }

    /// Sends `42<id>[event, data]` and returns the JSON of the matching ack `43<id>[...]`,
    /// skipping other packets.
    pub async fn emit_ack(&mut self, id: u64, event: &str, data: Value) -> Value {
        let packet = format!("42{id}{}", serde_json::json!([event, data]));
        self.send(&packet).await;
        self.wait_ack(id).await
    }

    pub async fn wait_ack(&mut self, id: u64) -> Value {
        let id = id.to_string();
        loop {
            // Binary frames are attachments of events (or of a binary ack, read as JSON here).
            let text = match self.recv().await {
                Frame::Text(text) => text,
                Frame::Binary(_) => continue,
                Frame::Closed => panic!("closed while waiting for ack {id}"),
            };
            // `43<id>[...]`, or a binary ack `46<n>-<id>[...]`.
            let rest = match text.strip_prefix("43") {
                Some(rest) => rest,
                None => match text.strip_prefix("46").and_then(|r| r.split_once('-')) {
                    Some((_, rest)) => rest,
                    None => continue,
                },
            };
            if let Some(json) = rest.strip_prefix(id.as_str())
                && json.starts_with('[')
            {
                let arr: Value = serde_json::from_str(json).expect("ack json");
                return arr[0].clone();
            }
        }
    }
}

/// A WebSocket to `url` on `addr` whose TCP receive buffer is 4 KiB.
pub async fn tiny_window_ws(addr: SocketAddr, url: &str) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let tcp = tokio::time::timeout(WAIT, socket.connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    let (ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp)),
    )
    .await
    .expect("ws handshake timed out")
    .expect("ws handshake");
    ws
}

/// Splits a polling payload into packets (separated by the record separator 0x1e).
pub fn split_payload(body: &str) -> Vec<String> {
    body.split('\u{1e}').map(str::to_owned).collect()
}

pub fn polling_url(addr: SocketAddr, sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("http://{addr}/socket.io/?EIO=4&transport=polling&sid={sid}"),
        None => format!("http://{addr}/socket.io/?EIO=4&transport=polling"),
    }
}

/// Opens an Engine.IO session over long-polling; returns its sid and open packet.
pub async fn polling_open(http: &reqwest::Client, addr: SocketAddr) -> (String, Value) {
    let body = http
        .get(polling_url(addr, None))
        .send()
        .await
        .expect("polling handshake")
        .text()
        .await
        .expect("body");
    let json = body
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("expected an open packet, got {body:?}"));
    let open: Value = serde_json::from_str(json).expect("open json");
    (open["sid"].as_str().expect("sid").to_owned(), open)
}

/// Long-polling GETs until a payload has packets other than pings (each answered with a
/// pong); returns them.
pub async fn polling_recv(http: &reqwest::Client, addr: SocketAddr, sid: &str) -> Vec<String> {
    loop {
        let (status, packets) = polling_get(http, addr, sid).await;
        assert_eq!(status, 200, "polling get failed");
        let mut other = Vec::new();
        for p in packets {
            if p == "2" {
                polling_post(http, addr, sid, &["3"]).await;
            } else {
                other.push(p);
            }
        }
        if !other.is_empty() {
            return other;
        }
    }
}

/// One long-polling GET: the packets the server had (or sends before its timeout).
pub async fn polling_get(
    http: &reqwest::Client,
    addr: SocketAddr,
    sid: &str,
) -> (u16, Vec<String>) {
    let resp = tokio::time::timeout(WAIT, http.get(polling_url(addr, Some(sid))).send())
        .await
        .expect("polling get timed out")
        .expect("polling get");
    let status = resp.status().as_u16();
    (status, split_payload(&resp.text().await.expect("body")))
}

/// One long-polling POST of `packets`.
pub async fn polling_post(
    http: &reqwest::Client,
    addr: SocketAddr,
    sid: &str,
    packets: &[&str],
) -> u16 {
    http.post(polling_url(addr, Some(sid)))
        .body(packets.join("\u{1e}"))
        .send()
        .await
        .expect("polling post")
        .status()
        .as_u16()
}
