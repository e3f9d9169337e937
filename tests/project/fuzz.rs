//! A bounded fuzz of the real `hub` binary, on both backends: property-based payloads for every
//! Socket.IO event, every REST route and the `/yjs` socket, plus raw Engine.IO garbage. Every
//! answer must be a clear error (an ack `{ok: false, error: {code, message}}`, an HTTP status
//! below 500 with the JSON error body, a `/yjs` close with a protocol code), the process must
//! log no panic, and its memory must stay bounded.

use crate::common;

use common::eio::WsClient;
use common::yjs::{YClient, YFrame, text_update};
use common::{Backend, SECRET, TestDb, WAIT};
use hub_protocol::realtime::client;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};

on_both_backends!(the_running_hub_survives_fuzzing);

const CODES: [&str; 10] = [
    "unauthorized",
    "forbidden",
    "not_found",
    "invalid",
    "rate_limited",
    "busy",
    "too_large",
    "conflict",
    "unavailable",
    "internal",
];

const EVENTS: [&str; 17] = [
    client::SYS_PING,
    client::SYS_ECHO,
    client::ROOM_JOIN,
    client::ROOM_LEAVE,
    client::PRESENCE_SET,
    client::TYPING_START,
    client::TYPING_STOP,
    client::CHAT_SEND,
    client::CHAT_EDIT,
    client::CHAT_DELETE,
    client::CHAT_REACT,
    client::CHAT_HISTORY,
    client::CHAT_THREAD,
    client::CHAT_READ,
    client::DOC_JOIN,
    client::DOC_LEAVE,
    client::DOC_MSG,
];

/// The hub process, its address and everything it printed.
struct Proc {
    child: tokio::process::Child,
    addr: SocketAddr,
    output: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    async fn spawn(db: &TestDb, dir: &std::path::Path) -> Proc {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", SECRET)
            .env("DATA_DIR", dir)
            .env("HUB_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            // The fuzzing is the point here, not the REST limits (they have their own test).
            .env("HUB_REST_RATE_ANON", "1000000/1s")
            .env("HUB_REST_RATE_USER", "1000000/1s")
            .env("RUST_LOG", "info")
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn hub");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut tx = Some(tx);
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let out = output.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(addr) = line
                    .split("hub listening on http://")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr);
                }
                out.lock().unwrap().push(line);
            }
        });
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let out = output.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                out.lock().unwrap().push(line);
            }
        });
        let addr = tokio::time::timeout(WAIT, rx)
            .await
            .expect("the hub did not start")
            .expect("the hub exited before listening");
        Proc {
            child,
            addr,
            output,
        }
    }

    /// Resident memory of the process, in KiB.
    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The peak of resident memory since the last [`Proc::reset_peak`], in KiB.
    fn peak_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn reset_peak(&self) {
        let pid = self.child.id().expect("running");
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak RSS");
    }

    fn status_kib(&self, field: &str) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect(field)
    }

    fn panics(&self) -> Vec<String> {
        self.output
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("panicked"))
            .cloned()
            .collect()
    }
}

fn token(user: &str) -> String {
    hub::auth::mint_with_secret(
        SECRET.as_bytes(),
        user,
        None,
        hub_protocol::AccountRole::User,
        std::time::Duration::from_secs(3600),
    )
    .unwrap()
}

/// Arbitrary JSON, with the ids of real things mixed in so that deeper paths are reached.
fn json_value(known: Vec<String>) -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        4 => any::<String>(),
        2 => prop::sample::select(known),
        1 => any::<String>().prop_map(|s| format!("{s}\u{0}")),
        1 => Just("x".repeat(5000)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text.prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let keys = prop_oneof![
            prop::sample::select(vec![
                "room",
                "doc",
                "id",
                "body",
                "client_id",
                "emoji",
                "add",
                "status",
                "meta",
                "since",
                "before",
                "after",
                "limit",
                "seq",
                "data",
                "reply_to",
                "name",
                "title",
                "user_id",
                "role",
                "description",
            ])
            .prop_map(str::to_owned),
            any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The fields each event reads, so that shaped payloads get past decoding.
fn fields(event: &str) -> &'static [&'static str] {
    match event {
        client::ROOM_JOIN => &["room", "since"],
        client::ROOM_LEAVE | client::TYPING_START | client::TYPING_STOP => &["room"],
        client::PRESENCE_SET => &["room", "status", "meta"],
        client::CHAT_SEND => &["room", "client_id", "body", "reply_to"],
        client::CHAT_EDIT => &["room", "id", "body"],
        client::CHAT_DELETE | client::CHAT_THREAD => &["room", "id"],
        client::CHAT_REACT => &["room", "id", "emoji", "add"],
        client::CHAT_HISTORY => &["room", "before", "after", "limit"],
        client::CHAT_READ => &["room", "seq"],
        client::DOC_JOIN | client::DOC_LEAVE => &["doc"],
        _ => &["data"],
    }
}

/// The real things the fuzz aims at.
#[derive(Clone)]
struct Ids {
    room: String,
    team_room: String,
    doc: String,
    message: String,
}

/// A payload with the event's own fields: mostly of the right type (a known id or any string,
/// a small or any number, a boolean), sometimes anything.
fn shaped(event: &'static str, known: Vec<String>, ids: Ids) -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        3 => prop::sample::select(known).prop_map(Value::from),
        1 => any::<String>().prop_map(Value::from),
    ];
    let number = prop_oneof![
        3 => (0i64..100).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
    ];
    let pick = |values: &[&str]| {
        prop::sample::select(values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
            .prop_map(Value::from)
            .boxed()
    };
    let field = move |name: &str| -> BoxedStrategy<Value> {
        let right = match name {
            "since" | "before" | "after" | "limit" | "seq" => number.clone().boxed(),
            "add" => any::<bool>().prop_map(Value::from).boxed(),
            "meta" => Just(json!({"note": "hi"})).boxed(),
            "room" => pick(&[&ids.room, &ids.team_room]),
            "doc" => pick(&[&ids.doc]),
            "id" | "reply_to" => pick(&[&ids.message]),
            "status" => pick(&["online", "away", "busy"]),
            "emoji" => pick(&["👍", "🎉"]),
            _ => text.clone().boxed(),
        };
        prop_oneof![
            6 => right,
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::from),
        ]
        .boxed()
    };
    let strategies: Vec<BoxedStrategy<Value>> =
        fields(event).iter().map(|name| field(name)).collect();
    strategies.prop_map(move |values| {
        Value::Object(
            fields(event)
                .iter()
                .map(|f| f.to_string())
                .zip(values)
                .collect(),
        )
    })
}

fn check_ack(event: &str, ack: &Value) -> Result<(), TestCaseError> {
    match ack["ok"].as_bool() {
        Some(true) => Ok(()),
        Some(false) => {
            let code = ack["error"]["code"].as_str().unwrap_or_default();
            prop_assert!(CODES.contains(&code), "{event}: unknown code in {ack}");
            prop_assert!(code != "internal", "{event}: internal error {ack}");
            prop_assert!(ack["error"]["message"].is_string(), "{event}: {ack}");
            Ok(())
        }
        None => Err(TestCaseError::fail(format!("{event}: not an ack: {ack}"))),
    }
}

async fn the_running_hub_survives_fuzzing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let hub = Proc::spawn(&db, dir.path()).await;
    let base = format!("http://{}", hub.addr);
    let http = common::http_client();
    let alice = token("alice");

    // Real things for the fuzz to reach: a venture, a team, a document, a message.
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&alice)
            .json(&body)
            .send()
    };
    let venture: Value = post("/api/v1/ventures", json!({"name": "Fuzz"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let venture = venture["id"].as_str().unwrap().to_owned();
    let room = format!("venture:{venture}");
    let team: Value = post(
        &format!("/api/v1/ventures/{venture}/teams"),
        json!({"name": "T"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let team = team["id"].as_str().unwrap().to_owned();
    let doc: Value = post("/api/v1/docs", json!({"room": room, "title": "D"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = doc["id"].as_str().unwrap().to_owned();
    let mut sio = WsClient::connected(hub.addr, &alice).await;
    sio.emit_ack(1, client::ROOM_JOIN, json!({ "room": room }))
        .await;
    let sent = sio
        .emit_ack(
            2,
            client::CHAT_SEND,
            json!({"room": room, "client_id": "seed", "body": "hello"}),
        )
        .await;
    let message = sent["message"]["id"].as_str().unwrap().to_owned();
    let known = vec![
        room.clone(),
        format!("team:{team}"),
        venture.clone(),
        team.clone(),
        doc.clone(),
        message.clone(),
        "alice".to_owned(),
        "bob".to_owned(),
        "member".to_owned(),
        "online".to_owned(),
        "👍".to_owned(),
    ];
    let ids = Ids {
        room: room.clone(),
        team_room: format!("team:{team}"),
        doc: doc.clone(),
        message: message.clone(),
    };
    let rss_before = hub.rss_kib();

    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });

    // Socket.IO: every event, with 0 to 3 arbitrary arguments.
    let sio = Mutex::new((sio, 100u64));
    let strategy = prop::sample::select(EVENTS.to_vec()).prop_flat_map(|event| {
        let args = prop_oneof![
            prop::collection::vec(json_value(known.clone()), 0..3),
            shaped(event, known.clone(), ids.clone()).prop_map(|v| vec![v]),
        ];
        (Just(event), args)
    });
    let result = runner.run(&strategy, |(event, args)| {
        let mut guard = sio.lock().unwrap();
        let (client, next) = &mut *guard;
        *next += 1;
        let id = *next;
        let mut packet = vec![json!(event)];
        packet.extend(args);
        let ack = tokio::task::block_in_place(|| {
            handle.block_on(async {
                client.send(&format!("42{id}{}", Value::from(packet))).await;
                client.wait_ack(id).await
            })
        });
        check_ack(event, &ack)
    });
    result.unwrap();

    // REST: every route, arbitrary JSON bodies and path segments.
    let routes: Vec<(&str, String)> = vec![
        ("POST", "/api/v1/ventures".into()),
        ("GET", format!("/api/v1/ventures/{venture}")),
        ("POST", format!("/api/v1/ventures/{venture}/members")),
        (
            "DELETE",
            format!("/api/v1/ventures/{venture}/members/{{seg}}"),
        ),
        ("POST", format!("/api/v1/ventures/{venture}/teams")),
        ("GET", "/api/v1/ventures/{seg}".into()),
        ("GET", "/api/v1/teams/{seg}".into()),
        ("POST", format!("/api/v1/teams/{team}/members")),
        ("DELETE", format!("/api/v1/teams/{team}/members/{{seg}}")),
        ("POST", "/api/v1/docs".into()),
        ("GET", "/api/v1/docs/{seg}".into()),
        ("DELETE", "/api/v1/docs/{seg}".into()),
        ("GET", "/api/v1/docs?room={seg}".into()),
        ("GET", "/api/v1/rooms".into()),
        ("GET", "/api/v1/me".into()),
    ];
    let strategy = (
        prop::sample::select(routes),
        json_value(known.clone()),
        any::<String>(),
        any::<bool>(),
    );
    let result = runner.run(&strategy, |((method, path), body, seg, raw)| {
        let seg: String = url_escape(&seg);
        let url = format!("{base}{}", path.replace("{seg}", &seg));
        let request = http
            .request(method.parse().unwrap(), &url)
            .bearer_auth(&alice);
        let request = if raw {
            // Not JSON at all, or JSON with the wrong content type.
            request
                .header("content-type", "application/json")
                .body(body.to_string().chars().rev().collect::<String>())
        } else {
            request.json(&body)
        };
        let (status, text) = tokio::task::block_in_place(|| {
            handle.block_on(async {
                let resp = request.send().await.unwrap();
                (
                    resp.status().as_u16(),
                    resp.text().await.unwrap_or_default(),
                )
            })
        });
        prop_assert!(status < 500, "{method} {url}: {status} {text}");
        if status >= 400 {
            let body: Value = serde_json::from_str(&text)
                .map_err(|_| TestCaseError::fail(format!("{method} {url}: {status} {text}")))?;
            prop_assert!(body["error"]["code"].is_string(), "{text}");
        }
        Ok(())
    });
    result.unwrap();

    // /yjs: arbitrary frames, and valid ones with bytes changed.
    let yjs = Mutex::new(None::<YClient>);
    let good = yrs::updates::encoder::Encode::encode_v1(&yrs::sync::Message::Sync(
        yrs::sync::SyncMessage::Update(text_update(7, "fuzz")),
    ));
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4).prop_map(
            move |flips| {
                let mut frame = good.clone();
                for (at, byte) in flips {
                    let i = at.index(frame.len());
                    frame[i] = byte;
                }
                frame
            }
        ),
    ];
    let result = runner.run(&strategy, |frame| {
        let mut guard = yjs.lock().unwrap();
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                if guard.is_none() {
                    let mut c = YClient::connect(hub.addr, &doc, Some(&alice))
                        .await
                        .expect("yjs connect");
                    c.recv_prefixed(&[0, 0]).await;
                    *guard = Some(c);
                }
                let c = guard.as_mut().unwrap();
                c.send(frame).await;
                // A step 1 after it: either its answer comes, or the socket closed first.
                c.send(vec![0, 0, 0]).await;
                loop {
                    match c.recv().await {
                        YFrame::Binary(b) if b.starts_with(&[0, 1]) => return Ok(()),
                        YFrame::Binary(_) => continue,
                        YFrame::Closed(code) => {
                            *guard = None;
                            prop_assert!(matches!(code, Some(1003 | 1009)), "closed with {code:?}");
                            return Ok(());
                        }
                    }
                }
            })
        })
    });
    result.unwrap();

    // Malformed updates whose counts claim millions to billions of entries, on all three
    // paths: each is refused, and the peak of the hub's memory while it refuses one stays
    // within a few MiB (it was 4 GiB per 500-byte frame when yrs reserved what they claimed).
    let mut sio = WsClient::connected(hub.addr, &alice).await;
    sio.emit_ack(1, client::DOC_JOIN, json!({ "doc": doc }))
        .await;
    let mut ack_id = 10;
    for count in [1u64 << 24, 1 << 26, 1 << 28, u32::MAX as u64] {
        for update in common::yjs::update_bombs(count) {
            let frame = yrs::updates::encoder::Encode::encode_v1(&yrs::sync::Message::Sync(
                yrs::sync::SyncMessage::Update(update.clone()),
            ));
            hub.reset_peak();
            let rss = hub.rss_kib();
            let resp = http
                .post(format!("{base}/api/v1/docs/{doc}/updates"))
                .bearer_auth(&alice)
                .body(update.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 422, "REST, {count}");
            let mut y = YClient::connect(hub.addr, &doc, Some(&alice))
                .await
                .expect("yjs connect");
            y.recv_prefixed(&[0, 0]).await;
            y.send(frame.clone()).await;
            assert_eq!(y.closed().await, Some(1003), "/yjs, {count}");
            ack_id += 1;
            sio.send(&format!(
                "451-{ack_id}{}",
                json!([client::DOC_MSG, doc, {"_placeholder": true, "num": 0}])
            ))
            .await;
            sio.send_binary(frame).await;
            let ack = sio.wait_ack(ack_id).await;
            assert_eq!(ack["error"]["code"], "invalid", "doc:msg, {count}: {ack}");
            let peak = hub.peak_kib();
            eprintln!(
                "fuzz: a malformed update claiming {count} entries: peak {peak} KiB, from {rss} KiB"
            );
            assert!(
                peak < rss + 16 * 1024,
                "a 500-byte update claiming {count} entries took the peak from {rss} KiB to {peak} KiB"
            );
        }
    }

    // Engine.IO: garbage packets on fresh sessions; each may be refused, the hub stays up.
    let strategy = (any::<String>(), any::<bool>());
    let result = runner.run(&strategy, |(text, connect_first)| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let mut c = if connect_first {
                    WsClient::connected(hub.addr, &alice).await
                } else {
                    WsClient::open(hub.addr, "").await
                };
                c.send(&format!("4{text}")).await;
                c.send("42999[\"sys:ping\"]").await;
                // Either the ping is answered or the session is closed; both are fine.
                let _ = c.recv_within(std::time::Duration::from_millis(200)).await;
                let _ = c.ws.close(None).await;
            })
        });
        Ok(())
    });
    result.unwrap();

    let health = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let rss_after = hub.rss_kib();
    eprintln!("fuzz: RSS {rss_before} KiB before, {rss_after} KiB after");
    assert!(
        hub.panics().is_empty(),
        "the hub panicked: {:?}",
        hub.panics()
    );
    // Bounded: a few thousand requests and frames leave no more than a little behind.
    assert!(
        rss_after < rss_before + 64 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    drop(hub);
    db.drop_schema().await;
}

/// Percent-encodes everything but unreserved characters, so any string is a path segment.
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() { "x".into() } else { out }
}
