//! An event-level Socket.IO test client over [`WsClient`]: `call` sends an event with an ack
//! id and waits for the ack; server events that arrive meanwhile wait in an inbox for
//! [`Sio::event`].

use super::eio::{Frame, WsClient};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;

pub struct Sio {
    pub ws: WsClient,
    next_id: u64,
    inbox: VecDeque<(String, Value)>,
}

impl Sio {
    pub async fn connect(addr: SocketAddr, token: &str) -> Sio {
        Sio {
            ws: WsClient::connected(addr, token).await,
            next_id: 1,
            inbox: VecDeque::new(),
        }
    }

    /// Reads one frame; an event goes to the inbox, an ack is returned as `(id, payload)`.
    async fn pump(&mut self) -> Option<(u64, Value)> {
        let text = match self.ws.recv().await {
            Frame::Text(t) => t,
            Frame::Binary(_) => return None,
            Frame::Closed => panic!("connection closed while waiting"),
        };
        if let Some(rest) = text.strip_prefix("42") {
            let arr: Value = serde_json::from_str(rest).expect("event json");
            let name = arr[0].as_str().expect("event name").to_owned();
            self.inbox
                .push_back((name, arr.get(1).cloned().unwrap_or(Value::Null)));
            return None;
        }
        if let Some(rest) = text.strip_prefix("43") {
            let split = rest.find('[').expect("ack payload");
            let id: u64 = rest[..split].parse().expect("ack id");
            let arr: Value = serde_json::from_str(&rest[split..]).expect("ack json");
            return Some((id, arr[0].clone()));
        }
        None
    }

    /// Emits `event` with `(arg, <binary>)` (one binary attachment) and returns its ack.
    pub async fn call_binary(&mut self, event: &str, arg: Value, bytes: Vec<u8>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let placeholder = serde_json::json!({"_placeholder": true, "num": 0});
        self.ws
            .send(&format!(
                "451-{id}{}",
                serde_json::json!([event, arg, placeholder])
            ))
            .await;
        self.ws.send_binary(bytes).await;
        loop {
            if let Some((got, payload)) = self.pump().await
                && got == id
            {
                return payload;
            }
        }
    }

    /// Emits `event` with `data` and an ack id, which it returns without waiting.
    pub async fn emit(&mut self, event: &str, data: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.ws
            .send(&format!("42{id}{}", serde_json::json!([event, data])))
            .await;
        id
    }

    /// The next ack to arrive, as `(id, payload)`.
    pub async fn next_ack(&mut self) -> (u64, Value) {
        loop {
            if let Some(ack) = self.pump().await {
                return ack;
            }
        }
    }

    /// Emits `event` with `data` and returns its ack.
    pub async fn call(&mut self, event: &str, data: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.ws
            .send(&format!("42{id}{}", serde_json::json!([event, data])))
            .await;
        loop {
            if let Some((got, payload)) = self.pump().await
                && got == id
            {
                return payload;
            }
        }
    }

    /// Calls and asserts success; returns the ack.
    pub async fn ok(&mut self, event: &str, data: Value) -> Value {
        let ack = self.call(event, data.clone()).await;
        assert_eq!(ack["ok"], true, "{event} {data} failed: {ack}");
        ack
    }

    /// Calls and asserts failure with `code`.
    pub async fn fails(&mut self, event: &str, data: Value, code: &str) -> Value {
        let ack = self.call(event, data.clone()).await;
        assert_eq!(ack["ok"], false, "{event} {data} should fail: {ack}");
        assert_eq!(ack["error"]["code"], code, "{event} {data}: {ack}");
        ack
    }

    /// Reads until the server disconnects this socket (a `41` packet or the connection's
    /// end); events that arrive meanwhile go to the inbox.
    pub async fn disconnected_by_server(&mut self) {
        loop {
            match self.ws.recv().await {
                Frame::Closed => return,
                Frame::Text(t) if t == "41" => return,
                Frame::Text(t) => {
                    if let Some(rest) = t.strip_prefix("42") {
                        let arr: Value = serde_json::from_str(rest).expect("event json");
                        let name = arr[0].as_str().expect("event name").to_owned();
                        self.inbox
                            .push_back((name, arr.get(1).cloned().unwrap_or(Value::Null)));
                    }
                }
                Frame::Binary(_) => {}
            }
        }
    }

    /// The next server event called `name` (others stay in the inbox).
    pub async fn event(&mut self, name: &str) -> Value {
        loop {
            if let Some(pos) = self.inbox.iter().position(|(n, _)| n == name) {
                return self.inbox.remove(pos).expect("present").1;
            }
            self.pump().await;
        }
    }

    /// The next event called `name` that satisfies `pred` (earlier ones that do not are dropped).
    pub async fn event_where(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.event(name).await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// Events called `name` received so far (after a round trip: everything sent to this
    /// socket before the round trip's answer has arrived).
    pub async fn received(&mut self, name: &str) -> Vec<Value> {
        self.ok("sys:ping", Value::Null).await;
        let mut out = Vec::new();
        self.inbox.retain(|(n, v)| {
            if n == name {
                out.push(v.clone());
                false
            } else {
                true
            }
        });
        out
    }

    /// Joins `room` and returns the ack.
    pub async fn join(&mut self, room: &str) -> Value {
        self.ok("room:join", serde_json::json!({ "room": room }))
            .await
    }

    /// Sends a chat message and returns it.
    pub async fn say(&mut self, room: &str, client_id: &str, body: &str) -> Value {
        let ack = self
            .ok(
                "chat:send",
                serde_json::json!({"room": room, "client_id": client_id, "body": body}),
            )
            .await;
        ack["message"].clone()
    }

    pub async fn close(mut self) {
        self.ws.send("1").await;
    }
}
