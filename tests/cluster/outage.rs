//! Postgres going away under a running hub: chat sends are refused with `unavailable` (never
//! acknowledged without being stored), health says so, and the hub recovers by itself when the
//! database returns. The outage is a TCP proxy between the hub and Postgres that the test cuts.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestDb, TestHub, WAIT};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy to `upstream` on a port of its own; `cut` drops every connection and refuses new
/// ones, `restore` accepts again on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Arc::default(),
            acceptor: None,
        };
        proxy.accept_on(listener);
        proxy
    }

    fn accept_on(&mut self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream, self.tasks.clone());
        self.acceptor = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(task);
            }
        }));
    }

    fn cut(&mut self) {
        if let Some(a) = self.acceptor.take() {
            a.abort();
        }
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restore(&mut self) {
        let mut listener = None;
        for _ in 0..100 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        self.accept_on(listener.expect("the proxy's port is free again"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_sends_are_refused_while_postgres_is_away_and_recover_after() {
    let db = TestDb::new(Backend::Postgres).await;
    let upstream: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let base = common::postgres_base_url();
    assert!(
        base.contains("127.0.0.1:5432"),
        "the proxy test needs Postgres on 127.0.0.1:5432"
    );
    let mut proxy = Proxy::start(upstream).await;
    let through = db.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let hub = TestHub::start_on(db, move |c| c.database_url = through).await;
    let id = hub.venture("alice", "Acme").await;
    let room = format!("venture:{id}");
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    assert_eq!(alice.say(&room, "m-1", "before").await["seq"], 1);

    proxy.cut();
    let refused = alice
        .fails(
            "chat:send",
            json!({"room": room, "client_id": "m-2", "body": "during"}),
            "unavailable",
        )
        .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry")
    );
    let (status, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "degraded");

    proxy.restore().await;
    // The pool replaces its broken connections by itself: the retry of the refused send goes
    // through, as seq 2 (the refused one stored nothing).
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    let message = loop {
        let ack = alice
            .call(
                "chat:send",
                json!({"room": room, "client_id": "m-2", "body": "during"}),
            )
            .await;
        if ack["ok"] == true {
            break ack["message"].clone();
        }
        assert_eq!(ack["error"]["code"], "unavailable", "{ack}");
        assert!(tokio::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(message["seq"], 2);
    // Reads use the main pool (sends commit on a pool of their own): each of its connections
    // broken by the cut fails one query as `unavailable`, then is replaced.
    let page = loop {
        let ack = alice
            .call("chat:history", json!({"room": room, "after": 0}))
            .await;
        if ack["ok"] == true {
            break ack;
        }
        assert_eq!(ack["error"]["code"], "unavailable", "{ack}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "reads never recovered"
        );
    };
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["before", "during"]);
    let (status, _) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(status, 200);
    hub.stop().await.unwrap();
}
