//! The raw peer of the load tests: the least a chat fan-out can do, as the machine's limit for
//! the chat scenario. A WebSocket server on tokio-tungstenite that keeps rooms of sockets and,
//! for each message a socket sends to a room, stamps the room's next seq on it and writes that
//! one frame to every other socket of the room. No authentication, storage, heartbeat or
//! queue limit.
//!
//! It speaks just the framing of the generator's client (Engine.IO v4 / Socket.IO v5 text
//! packets: the open packet, the connect, `room:join` and `chat:send` with their acks, and
//! `chat:message` out), so the same generator measures it exactly like the hub and Node.
//!
//!     raw-ws-peer [ADDR]      # default 127.0.0.1:3003

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

type Tx = mpsc::UnboundedSender<Utf8Bytes>;

/// How a connection ended; its error is only ever dropped (a connection that fails just ends).
type Served = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Default)]
struct Room {
    seq: u64,
    sockets: Vec<(u64, Tx)>,
}

#[derive(Default)]
struct Rooms(Mutex<HashMap<String, Room>>);

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Deserialize)]
struct Join<'a> {
    #[serde(borrow)]
    room: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize)]
struct Say<'a> {
    #[serde(borrow)]
    room: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    client_id: &'a RawValue,
    #[serde(borrow)]
    body: &'a RawValue,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("raw WebSocket peer listening on {addr}");
    let rooms = Arc::new(Rooms::default());
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the others.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let (rooms, id) = (rooms.clone(), ids.fetch_add(1, Ordering::Relaxed));
        tokio::spawn(async move {
            let _ = serve(stream, id, &rooms).await;
            for room in rooms.lock().values_mut() {
                room.sockets.retain(|(sid, _)| *sid != id);
            }
        });
    }
}

async fn serve(stream: TcpStream, id: u64, rooms: &Rooms) -> Served {
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await?;
    let (mut write, mut read) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if write.send(Message::Text(frame)).await.is_err() {
                break;
            }
        }
    });
    let open = format!(
        r#"0{{"sid":"{id}","upgrades":[],"pingInterval":3600000,"pingTimeout":3600000,"maxPayload":1000000}}"#
    );
    let _ = tx.send(open.into());
    while let Some(Ok(message)) = read.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let text = text.as_str();
        if text.starts_with("40") {
            let _ = tx.send(format!(r#"40{{"sid":"{id}"}}"#).into());
            continue;
        }
        // `42<ack id>["event",data]`
        let Some(rest) = text.strip_prefix("42") else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (ack, array) = rest.split_at(digits);
        let Ok((event, data)) = serde_json::from_str::<(&str, &RawValue)>(array) else {
            continue;
        };
        match event {
            "room:join" => {
                let Ok(join) = serde_json::from_str::<Join>(data.get()) else {
                    continue;
                };
                let mut all = rooms.lock();
                let room = all.entry(join.room.to_string()).or_default();
                room.sockets.push((id, tx.clone()));
                let answer = format!(
                    r#"43{ack}[{{"ok":true,"room":{},"role":"member","last_seq":{},"presence":[],"typing":[],"unread":0}}]"#,
                    serde_json::to_string(&join.room).unwrap_or_default(),
                    room.seq
                );
                drop(all);
                let _ = tx.send(answer.into());
            }
            "chat:send" => {
                let Ok(send) = serde_json::from_str::<Say>(data.get()) else {
                    continue;
                };
                let room_json = serde_json::to_string(&send.room).unwrap_or_default();
                let mut all = rooms.lock();
                let Some(room) = all.get_mut(send.room.as_ref()) else {
                    continue;
                };
                room.seq += 1;
                let message = format!(
                    r#"{{"id":"{id}-{seq}","room":{room_json},"seq":{seq},"author_id":"{id}","client_id":{},"body":{},"reply_to":null,"created_at":"","edited_at":null,"deleted":false,"reactions":{{}}}}"#,
                    send.client_id.get(),
                    send.body.get(),
                    seq = room.seq,
                );
                // One frame, shared by every socket of the room but the sender.
                let frame = Utf8Bytes::from(format!(r#"42["chat:message",{message}]"#));
                for (sid, socket) in &room.sockets {
                    if *sid != id {
                        let _ = socket.send(frame.clone());
                    }
                }
                drop(all);
                let _ = tx.send(format!(r#"43{ack}[{{"ok":true,"message":{message}}}]"#).into());
            }
            _ => {}
        }
    }
    writer.abort();
    Ok(())
}
