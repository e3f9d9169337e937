//! A raw `/yjs` client for protocol tests: tokio-tungstenite plus yrs to build and read
//! y-protocols frames.

use super::WAIT;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

pub enum YFrame {
    Binary(Vec<u8>),
    Closed(Option<u16>),
}

pub struct YClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl YClient {
    /// Connects to `/yjs/{doc}`; the HTTP status when the upgrade is refused.
    pub async fn connect(addr: SocketAddr, doc: &str, token: Option<&str>) -> Result<YClient, u16> {
        let url = match token {
            Some(t) => format!("ws://{addr}/yjs/{doc}?token={t}"),
            None => format!("ws://{addr}/yjs/{doc}"),
        };
        match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timed out")
        {
            Ok((ws, _)) => Ok(YClient { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("ws connect: {e}"),
        }
    }

    pub async fn recv(&mut self) -> YFrame {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a frame")
            {
                Some(Ok(Message::Binary(b))) => return YFrame::Binary(b.to_vec()),
                Some(Ok(Message::Close(c))) => return YFrame::Closed(c.map(|c| u16::from(c.code))),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return YFrame::Closed(None),
            }
        }
    }

    /// The next binary frame whose first bytes are `prefix`.
    pub async fn recv_prefixed(&mut self, prefix: &[u8]) -> Vec<u8> {
        loop {
            match self.recv().await {
                YFrame::Binary(b) if b.starts_with(prefix) => return b,
                YFrame::Binary(_) => continue,
                YFrame::Closed(code) => panic!("closed ({code:?}) while waiting for {prefix:?}"),
            }
        }
    }

    pub async fn send(&mut self, frame: Vec<u8>) {
        self.ws.send(Message::binary(frame)).await.expect("ws send");
    }

    /// Waits for the close, skipping frames; returns its code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let YFrame::Closed(code) = self.recv().await {
                return code;
            }
        }
    }
}

/// An update inserting `s` at the start of text `t`, from client `client`.
pub fn text_update(client: u64, s: &str) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let text = doc.get_or_insert_text("t");
    let mut txn = doc.transact_mut();
    text.insert(&mut txn, 0, s);
    txn.encode_update_v1()
}

/// The text `t` of a document given as one update.
pub fn text_of(state: &[u8]) -> String {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(state).expect("decodable state"))
            .expect("applicable state");
    }
    let text = doc.get_or_insert_text("t");
    text.get_string(&doc.transact())
}

/// Whether the document given as one update is empty.
pub fn is_empty(state: &[u8]) -> bool {
    let doc = Doc::new();
    let mut txn = doc.transact_mut();
    txn.apply_update(Update::decode_v1(state).expect("decodable state"))
        .expect("applicable");
    txn.state_vector() == StateVector::default()
}

fn varu(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Malformed v1 updates of 500 bytes whose counts claim `count` entries: clients, blocks of
/// one client, and values of an `Any` content. Before the hub bounded its decoding, each made
/// yrs reserve gigabytes.
pub fn update_bombs(count: u64) -> Vec<Vec<u8>> {
    let mut clients = Vec::new();
    varu(count, &mut clients);
    let mut blocks = vec![1];
    varu(count, &mut blocks);
    blocks.extend([5, 0]);
    let mut any = vec![1, 1, 5, 0, 8, 1, 1, b't', 1, 117];
    varu(count, &mut any);
    let mut bombs = vec![clients, blocks, any];
    for b in &mut bombs {
        b.resize(500, 0);
    }
    bombs
}
