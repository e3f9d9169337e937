//! Operations: health, metrics, graceful shutdown, and the `hub` binary itself (startup
//! errors on one line, `token`, `migrate`, `--help`, SIGTERM).

use crate::common;

use common::eio::{Frame, WsClient};
use common::sio::Sio;
use common::{Backend, SECRET, TestDb, TestHub, WAIT};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;

on_both_backends!(
    health_reports_storage_and_dependencies,
    metrics_count_sockets_events_and_requests,
    graceful_shutdown_closes_sockets_and_returns_ok,
    data_survives_a_restart,
);

async fn health_reports_storage_and_dependencies(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let resp = hub.http.get(hub.url("/api/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h: Value = resp.json().await.unwrap();
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["database"], "ok");
    assert_eq!(h["redis"], "not_configured");
    assert_eq!(h["environment"], "test");
    assert!(h["timestamp"].as_str().unwrap().ends_with('Z'));
    let storage = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(h["services"]["storage"], storage);
    assert_eq!(h["services"]["fanout"], "in_process");
    assert_eq!(h["services"]["connections"], 0);
    let _c = WsClient::connected(hub.addr, &hub.token("alice")).await;
    let h: Value = hub
        .http
        .get(hub.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["services"]["connections"], 1);
    hub.stop().await.unwrap();
}

/// A TCP proxy in front of Postgres that a test can cut and restore, to make the database
/// unreachable for a running hub.
struct CuttableProxy {
    port: u16,
    up: watch::Sender<bool>,
}

impl CuttableProxy {
    async fn start(target: String) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let proxy = CuttableProxy { port, up };
        proxy.serve(listener, target);
        proxy
    }

    fn serve(&self, listener: TcpListener, target: String) {
        let mut state = self.up.subscribe();
        let per_conn = self.up.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { return };
                        let target = target.clone();
                        let mut conn_state = per_conn.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                                _ = conn_state.wait_for(|up| !up) => {}
                            }
                        });
                    }
                    _ = state.wait_for(|up| !up) => return, // stop listening: connections are refused
                }
            }
        });
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    async fn restore(&self, target: String) {
        self.up.send_replace(true);
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener, target);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_the_database_is_unreachable() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut url = reqwest::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = CuttableProxy::start(target.clone()).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let proxied = url.to_string();
    let hub = TestHub::start_on(db, |c| c.database_url = proxied).await;

    proxy.cut();
    let resp = hub.http.get(hub.url("/api/health")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let h: Value = resp.json().await.unwrap();
    assert_eq!(h["status"], "degraded");
    assert!(h["database"].as_str().unwrap().starts_with("error"), "{h}");
    assert_eq!(h["reason"], "database unreachable");
    // REST answers with the error body rather than hanging or leaking the cause.
    let (status, body) = hub.get("/api/v1/ventures", &hub.token("alice")).await;
    assert!(status == 503 || status == 500, "{status} {body}");
    assert!(body["error"]["code"].is_string());

    proxy.restore(target).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = hub
            .http
            .get(hub.url("/api/health"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health did not recover"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    hub.stop().await.unwrap();
}

async fn metrics_count_sockets_events_and_requests(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut c = WsClient::connected(hub.addr, &hub.token("alice")).await;
    assert_eq!(c.emit_ack(1, "sys:ping", Value::Null).await["ok"], true);
    assert_eq!(c.emit_ack(2, "nope", json!({})).await["ok"], false);
    let (_, _) = hub.get("/api/v1/me", "bad-token").await;
    let venture = hub.venture("alice", "Acme").await;
    let room = format!("venture:{venture}");
    let mut sio = Sio::connect(hub.addr, &hub.token("alice")).await;
    sio.join(&room).await;
    sio.say(&room, "m1", "measured").await;
    let resp = hub.http.get(hub.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no metric {prefix} in:\n{text}"))
    };
    assert!(value("hub_socket_connects_total") >= 1.0);
    assert!(value("hub_socket_connections") >= 1.0);
    assert!(value("hub_socket_events_total{event=\"sys:ping\"}") >= 1.0);
    assert!(value("hub_socket_acks_total{result=\"error\"}") >= 1.0);
    assert!(value("hub_socket_errors_total{code=\"not_found\"}") >= 1.0);
    assert!(value("hub_auth_failures_total{transport=\"http\"}") >= 1.0);
    assert!(
        value("hub_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"401\"}") >= 1.0
    );
    assert!(
        value("hub_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/me\"}")
            >= 1.0
    );
    // The send, its group commit and how long each took (recorded before the ack).
    assert!(value("hub_chat_send_seconds_count") >= 1.0);
    assert!(value("hub_chat_send_seconds_sum") > 0.0);
    assert!(value("hub_group_commit_seconds_count") >= 1.0);
    assert!(value("hub_group_commit_size_count") >= 1.0);
    hub.stop().await.unwrap();
}

async fn graceful_shutdown_closes_sockets_and_returns_ok(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut ws = WsClient::connected(hub.addr, &hub.token("alice")).await;
    let addr = hub.addr;
    let result = hub.stop().await;
    assert!(result.is_ok(), "{result:?}");
    ws.expect_closed().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}

async fn data_survives_a_restart(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Durable").await;
    hub.add_member(&id, "alice", "bob", "viewer").await;
    let hub = hub.restart().await;
    let (status, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("bob"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["name"], "Durable");
    assert_eq!(detail["role"], "viewer");
    hub.stop().await.unwrap();
}

// ---- the binary ----

fn hub_cmd(data_dir: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("JWT_SECRET")
        .env("DATA_DIR", data_dir)
        .env("HUB_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

async fn output(mut cmd: tokio::process::Command) -> (i32, String, String) {
    let out = tokio::time::timeout(WAIT * 3, cmd.output())
        .await
        .expect("hub did not exit")
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn bad_configuration_stops_startup_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("DATABASE_URL", "postgres://nobody@127.0.0.1:1/x")],
            "cannot open the database at postgres://nobody@127.0.0.1:1/x",
        ),
        (
            vec![("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/x")],
            "postgres://u:***@127.0.0.1:1/x",
        ),
        (vec![("DATABASE_URL", "mysql://x@y/z")], "is not supported"),
        (vec![("JWT_SECRET", "too-short")], "at least 32"),
        (vec![("REDIS_URL", "http://nope")], "REDIS_URL"),
        (
            vec![("REDIS_URL", "redis://:hunter2@127.0.0.1:1")],
            "cannot reach Redis at redis://:***@127.0.0.1:1",
        ),
        (
            vec![("HUB_ADDR", "not-an-address")],
            "invalid value 'not-an-address'",
        ),
        (vec![("HUB_WRITE_TIMEOUT", "soon")], "--write-timeout"),
    ];
    for (env, expected) in cases {
        let mut cmd = hub_cmd(dir.path());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let (code, _, stderr) = output(cmd).await;
        assert_ne!(code, 0, "{env:?}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
        assert_eq!(code, 1, "{env:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{env:?}: {stderr}");
        assert!(!stderr.contains("backtrace"), "{stderr}");
    }
    // A flag that does not parse: one line too, with where to look.
    let mut cmd = hub_cmd(dir.path());
    cmd.args(["--addr", "nowhere"]);
    let (code, _, stderr) = output(cmd).await;
    assert_eq!(code, 1);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--addr") && stderr.contains("hub --help"),
        "{stderr}"
    );
    // A missing Postgres database: its cause once, without Postgres' source location.
    let base = common::postgres_base_url();
    let missing = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/no_such_database_here"),
        None => panic!("{base}"),
    };
    let mut cmd = hub_cmd(dir.path());
    cmd.env("DATABASE_URL", &missing);
    let (code, _, stderr) = output(cmd).await;
    assert_eq!(code, 1);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("does not exist").count(), 1, "{stderr}");
    assert!(!stderr.contains(".c:"), "{stderr}");
}

#[tokio::test]
async fn token_help_lists_only_what_token_uses() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hub_cmd(dir.path());
    cmd.args(["token", "--help"]);
    let (code, stdout, _) = output(cmd).await;
    assert_eq!(code, 0);
    for name in [
        "--user",
        "--name",
        "--role",
        "--ttl",
        "JWT_SECRET",
        "DATA_DIR",
    ] {
        assert!(
            stdout.contains(name),
            "token --help lacks {name}:\n{stdout}"
        );
    }
    for server_only in ["HUB_ADDR", "DATABASE_URL", "HUB_PING_INTERVAL"] {
        assert!(
            !stdout.contains(server_only),
            "{server_only} in token --help"
        );
    }
    // The help says how to run a cluster.
    let mut cmd = hub_cmd(dir.path());
    cmd.arg("--help");
    let (_, stdout, _) = output(cmd).await;
    assert!(stdout.contains("REDIS_URL=redis://"), "{stdout}");
    assert!(stdout.contains("HUB_REDIS_PREFIX"), "{stdout}");
}

#[tokio::test]
async fn help_documents_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hub_cmd(dir.path());
    cmd.arg("--help");
    let (code, stdout, _) = output(cmd).await;
    assert_eq!(code, 0);
    for name in [
        "serve",
        "migrate",
        "token",
        "HUB_ADDR",
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "DATA_DIR",
        "LOG_FORMAT",
    ] {
        assert!(stdout.contains(name), "--help lacks {name}:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_command_mints_tokens_the_hub_accepts() {
    let dir = tempfile::tempdir().unwrap();
    // With JWT_SECRET.
    let mut cmd = hub_cmd(dir.path());
    cmd.env("JWT_SECRET", SECRET).args([
        "token", "--user", "alice", "--name", "Alice A", "--ttl", "1h",
    ]);
    let (code, token, stderr) = output(cmd).await;
    assert_eq!(code, 0, "{stderr}");
    let hub = TestHub::start(Backend::Sqlite).await;
    let (status, me) = hub.get("/api/v1/me", token.trim()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["user"],
        json!({"id": "alice", "name": "Alice A", "role": "user"})
    );

    // Without: `token` never creates a secret (the hub would not know it)...
    let mut cmd = hub_cmd(dir.path());
    cmd.args(["token", "--user", "ops", "--role", "admin"]);
    let (code, _, stderr) = output(cmd).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no secret at") && stderr.contains("start the hub once"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!dir.path().join("jwt_secret").exists());
    // ...it uses the one the hub generated in DATA_DIR, and says so.
    let mut cmd = hub_cmd(dir.path());
    cmd.arg("migrate");
    assert_eq!(output(cmd).await.0, 0);
    let mut cmd = hub_cmd(dir.path());
    cmd.args(["token", "--user", "ops", "--role", "admin"]);
    let (code, token, stderr) = output(cmd).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("jwt_secret"), "{stderr}");
    let secret = std::fs::read_to_string(dir.path().join("jwt_secret")).unwrap();
    let store = hub::store::Store::connect("sqlite::memory:", 1)
        .await
        .unwrap();
    let auth = hub::auth::Auth::new(secret.trim().as_bytes(), store);
    let who = auth.verify(token.trim()).await.unwrap();
    assert_eq!(who.role, hub_protocol::AccountRole::Admin);
    hub.stop().await.unwrap();

    let mut cmd = hub_cmd(dir.path());
    cmd.args(["token", "--user", "has space"]);
    let (code, _, stderr) = output(cmd).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("user id"), "{stderr}");
}

/// `hub serve > hub.log`: logs to a file or a pipe are plain text, without colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hub_cmd(dir.path());
    cmd.env("LOG_FORMAT", "pretty").env_remove("NO_COLOR");
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("no startup log")
            .unwrap()
            .expect("hub exited before listening");
        let last = line.contains("mint a token for local use");
        seen.push(line);
        if last {
            break;
        }
    }
    // The startup hint names a command that works here (this test binary is under target/),
    // and a refused request is one line at the default level.
    assert!(
        seen.iter()
            .any(|l| l.contains("mint a token for local use with: cargo run")),
        "{seen:?}"
    );
    let addr = seen
        .iter()
        .find_map(|l| l.split("hub listening on http://").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();
    let refused = common::http_client()
        .get(format!("http://{addr}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let line = tokio::time::timeout(WAIT, async {
        loop {
            let line = lines.next_line().await.unwrap().unwrap();
            if line.contains("/api/v1/me") {
                return line;
            }
        }
    })
    .await
    .expect("a line for the refused request");
    assert!(line.contains("GET /api/v1/me -> 401"), "{line}");
    child.kill().await.unwrap();
    seen.push(line);
    assert!(
        seen.iter().all(|l| !l.contains('\u{1b}')),
        "colour codes in a pipe: {seen:?}"
    );
    assert!(seen.iter().any(|l| l.contains("INFO")), "{seen:?}");
}

#[tokio::test]
async fn migrate_command_prepares_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hub_cmd(dir.path());
    cmd.arg("migrate");
    let (code, stdout, stderr) = output(cmd).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("migrations applied (sqlite)"), "{stdout}");
    assert!(dir.path().join("hub.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// SIGTERM drains: the listener closes at once (health says `draining` on a connection still
/// open), the two sockets are handed back one after the other over `HUB_DRAIN_SECONDS`, each
/// told to reconnect after a delay within `HUB_DRAIN_JITTER`, then the hub exits 0.
async fn sigterm_drains_the_sockets_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hub_cmd(dir.path());
    cmd.env("LOG_FORMAT", "json")
        .env("HUB_DRAIN_SECONDS", "2")
        .env("HUB_DRAIN_JITTER", "300ms");
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr: std::net::SocketAddr = loop {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("no startup log")
            .unwrap()
            .expect("hub exited before listening");
        let log: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        if let Some(rest) = log["message"]
            .as_str()
            .and_then(|m| m.strip_prefix("hub listening on http://"))
        {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
    };
    let token = hub::auth::mint_with_secret(
        std::fs::read_to_string(dir.path().join("jwt_secret"))
            .unwrap()
            .trim()
            .as_bytes(),
        "alice",
        None,
        hub_protocol::AccountRole::User,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let mut first = WsClient::connected(addr, &token).await;
    let mut second = WsClient::connected(addr, &token).await;
    let http = crate::common::http_client();
    let health = format!("http://{addr}/api/health");
    // A connection the pool keeps, as a load balancer's health checks do.
    assert_eq!(http.get(&health).send().await.unwrap().status(), 200);
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    // One socket is handed back at once, the other a second later; whichever goes first is
    // told to come back within the jitter, then disconnected.
    let hint = |frame: Frame| -> Option<Value> {
        let Frame::Text(text) = frame else {
            return None;
        };
        let event: Value = serde_json::from_str(text.strip_prefix("42")?).ok()?;
        (event[0] == "session:reconnect").then(|| event[1].clone())
    };
    let (told, mut other) = tokio::select! {
        f = first.recv() => (hint(f), second),
        f = second.recv() => (hint(f), first),
    };
    let told = told.expect("the first frame is the reconnect hint");
    assert_eq!(told["reason"], "draining");
    assert!(told["after_ms"].as_u64().unwrap() <= 300, "{told}");
    // Draining: nothing new is accepted, and health says so where a connection is open.
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
    let (status, body) = {
        let r = http.get(&health).send().await.unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "draining");
    // The other socket is still served until its turn, then told the same.
    let later = hint(other.recv().await).expect("the other socket's hint");
    assert_eq!(later["reason"], "draining");
    loop {
        if other.recv().await == Frame::Closed {
            break;
        }
    }
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("hub did not exit")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    assert!(rest.iter().any(|l| l.contains("hub stopped")), "{rest:?}");
}
