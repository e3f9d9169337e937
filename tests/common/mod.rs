//! Test harness: a real hub on `127.0.0.1:0` per test, on its own SQLite file or its own
//! Postgres schema, with helpers to mint tokens and talk REST. Each test owns its data.
//!
//! Postgres is taken from `HUB_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); every test creates a fresh schema and drops it
//! when it stops.

#![allow(dead_code)]

pub mod eio;
pub mod node;
pub mod redis;
pub mod sio;
pub mod yjs;

use hub::Config;
use hub_protocol::AccountRole;
use serde_json::Value;
use sqlx::Connection;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` once per storage backend, as `<name>::sqlite` and
/// `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

pub fn postgres_base_url() -> String {
    std::env::var("HUB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh database for one test: a SQLite file in a temp dir, or a new Postgres schema.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()),
                backend,
                _dir: dir,
                schema: None,
            },
            Backend::Postgres => {
                let base = postgres_base_url();
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(&base).await.unwrap_or_else(|e| {
                    panic!("Postgres at {base} is needed for the postgres tests (set HUB_TEST_DATABASE_URL): {e}")
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    backend,
                    _dir: dir,
                    schema: Some(schema),
                }
            }
        }
    }

    pub async fn drop_schema(&self) {
        if let Some(schema) = &self.schema
            && let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_base_url()).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut conn)
                .await;
        }
    }
}

pub struct TestHub {
    pub addr: SocketAddr,
    pub base: String,
    pub db: TestDb,
    pub config: Config,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestHub {
    pub async fn start(backend: Backend) -> TestHub {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a hub after `tweak` adjusted its config.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestHub {
        let db = TestDb::new(backend).await;
        Self::start_on(db, tweak).await
    }

    pub async fn start_on(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestHub {
        Self::start_in(db, hub::Runtime::default(), tweak).await
    }

    /// Starts a hub on `runtime` (a bus shared with other hubs, a manual clock).
    pub async fn start_in(
        db: TestDb,
        runtime: hub::Runtime,
        tweak: impl FnOnce(&mut Config),
    ) -> TestHub {
        let mut config = Config::new(db.url.clone(), SECRET.as_bytes().to_vec());
        config.db_max_connections = 4;
        config.files.dir = db.dir().join("files");
        // Tests send fast; the rate limits have their own tests.
        config.chat.rate_per_second = 100_000.0;
        config.chat.burst = 100_000;
        let plenty = hub_rooms::rate::Quota::parse("1000000/1s").expect("quota");
        config.rest_limits.anonymous = plenty;
        config.rest_limits.user = plenty;
        config.conn_limits = hub_rooms::conns::ConnLimits::none();
        // A stopping test hub hands its connections back at once; the drain has its own tests.
        config.drain.window = std::time::Duration::ZERO;
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(hub::run_with(
            config.clone(),
            runtime,
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        let mut hub = TestHub {
            addr,
            base: format!("http://{addr}"),
            db,
            config,
            http: http_client(),
            shutdown: Some(tx),
            handle: Some(handle),
        };
        hub.wait_ready().await;
        hub
    }

    /// A handle on a hub that runs in another process at `addr` (on `db`, signing with the
    /// tests' secret): REST calls and tokens work as for one in this process; stopping it is
    /// the caller's business.
    pub async fn external(addr: SocketAddr, db: TestDb) -> TestHub {
        let config = Config::new(db.url.clone(), SECRET.as_bytes().to_vec());
        let mut hub = TestHub {
            addr,
            base: format!("http://{addr}"),
            db,
            config,
            http: http_client(),
            shutdown: None,
            handle: None,
        };
        hub.wait_ready().await;
        hub
    }

    async fn wait_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(r) = self.http.get(self.url("/api/health")).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Some(handle) = self.handle.take_if(|h| h.is_finished()) {
                panic!("the hub stopped before it was ready: {:?}", handle.await);
            }
            if tokio::time::Instant::now() >= deadline {
                let health = match self.http.get(self.url("/api/health")).send().await {
                    Ok(r) => format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
                    Err(e) => e.to_string(),
                };
                panic!("hub did not become ready: {health}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The value of an unlabelled Prometheus metric from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    pub fn token(&self, user: &str) -> String {
        self.token_with(user, Some(&capitalize(user)), AccountRole::User)
    }

    /// A token for `user` that lasts 400 days: hubs on a manual clock may run hours ahead of
    /// the machine's (see [`today_at`]).
    pub fn token_with(&self, user: &str, name: Option<&str>, role: AccountRole) -> String {
        hub::auth::mint_with_secret(
            SECRET.as_bytes(),
            user,
            name,
            role,
            Duration::from_secs(400 * 86_400),
        )
        .expect("mint")
    }

    /// Sends a request with `token` and returns the status and JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    /// Creates a venture owned by `owner` and returns its id.
    pub async fn venture(&self, owner: &str, name: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/ventures",
                &self.token(owner),
                serde_json::json!({"name": name}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("venture id").to_owned()
    }

    /// Adds `user` to a venture with `role`, as `by`.
    /// `by` adds `user` to `venture` with `role`: an invitation that `user` accepts (or a role
    /// change of a member).
    pub async fn add_member(&self, venture: &str, by: &str, user: &str, role: &str) {
        self.join_group(
            &format!("/api/v1/ventures/{venture}/members"),
            &self.token(by),
            user,
            role,
        )
        .await;
    }

    /// Posts `{user_id: user, role}` to a group's `members` path with `token`, and when that is
    /// an invitation, accepts it as `user`. Returns the member.
    pub async fn join_group(
        &self,
        members: &str,
        token: &str,
        user: &str,
        role: &str,
    ) -> serde_json::Value {
        let (status, body) = self
            .post(
                members,
                token,
                serde_json::json!({"user_id": user, "role": role}),
            )
            .await;
        match status {
            200 | 201 => body["member"].clone(),
            202 => {
                let id = body["invitation"]["id"].as_str().expect("an invitation id");
                let (status, member) = self
                    .post(
                        &format!("/api/v1/invitations/{id}/accept"),
                        &self.token(user),
                        serde_json::json!({}),
                    )
                    .await;
                assert_eq!(status, 201, "accept: {member}");
                member
            }
            _ => panic!("add member: {status} {body}"),
        }
    }

    /// `POST /api/v1/docs/{doc}/updates` with a binary update; returns the status.
    pub async fn post_doc_update(&self, doc: &str, token: &str, update: Vec<u8>) -> u16 {
        self.http
            .post(self.url(&format!("/api/v1/docs/{doc}/updates")))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(update)
            .send()
            .await
            .expect("post update")
            .status()
            .as_u16()
    }

    /// The whole document, as alice (`GET /api/v1/docs/{doc}/state`).
    pub async fn doc_state(&self, doc: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(self.url(&format!("/api/v1/docs/{doc}/state")))
            .bearer_auth(self.token("alice"))
            .send()
            .await
            .expect("get state");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/octet-stream");
        resp.bytes().await.expect("state body").to_vec()
    }

    /// Triggers graceful shutdown, waits for `run` to return, and drops the test schema.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let result = self.shutdown_and_wait().await;
        self.db.drop_schema().await;
        result
    }

    /// Triggers graceful shutdown and waits for `run` to return, keeping the database.
    pub async fn shutdown_and_wait(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.handle.take() {
            Some(h) => tokio::time::timeout(WAIT, h)
                .await
                .expect("hub did not stop")?,
            None => Ok(()),
        }
    }

    /// Ends the hub as a crash would: no graceful shutdown, no goodbye to other nodes. Its
    /// background tasks (heartbeats, deliveries) end with it.
    pub async fn crash(mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
    }

    /// Stops this hub and starts a new one on the same database.
    pub async fn restart(mut self) -> TestHub {
        self.shutdown_and_wait().await.expect("clean stop");
        let config = self.config.clone();
        let db = std::mem::replace(&mut self.db, TestDb::placeholder());
        TestHub::start_on(db, move |c| *c = config).await
    }
}

impl TestDb {
    /// A directory of the test's own (uploaded files go under it).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The same database for another hub (dropping it drops nothing).
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            backend: self.backend,
            _dir: tempfile::tempdir().expect("temp dir"),
            schema: None,
        }
    }

    fn placeholder() -> TestDb {
        TestDb {
            url: String::new(),
            backend: Backend::Sqlite,
            _dir: tempfile::tempdir().expect("temp dir"),
            schema: None,
        }
    }
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A token for `user` that outlives the days a test's manual clock moves through (400 days).
pub fn lasting_token(user: &str, role: AccountRole) -> String {
    hub::auth::mint_with_secret(
        SECRET.as_bytes(),
        user,
        None,
        role,
        Duration::from_secs(400 * 86_400),
    )
    .expect("mint")
}

/// `hour`:00 UTC of the machine's current day, in Unix milliseconds (a start for manual clocks
/// in tests that count UTC days).
pub fn today_at(hour: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    now - now % 86_400_000 + hour * 3_600_000
}

/// A hub on a fresh database of `backend`, on `clock`.
pub async fn hub_on_clock(
    backend: Backend,
    clock: &std::sync::Arc<hub::clock::ManualClock>,
    tweak: impl FnOnce(&mut Config),
) -> TestHub {
    let runtime = hub::Runtime {
        clock: clock.clone(),
        ..hub::Runtime::default()
    };
    TestHub::start_in(TestDb::new(backend).await, runtime, tweak).await
}

/// A direct connection to the hub's database, behind its back.
pub async fn raw_db(hub: &TestHub) -> sqlx::AnyConnection {
    raw_db_url(&hub.db.url).await
}

/// A direct connection to the test database at `url`, behind the hub's back.
pub async fn raw_db_url(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .expect("connect to the test database")
}

/// Runs `edit` on an append-only `table` with its `{table}_no_update` trigger lifted for the
/// edit (dropped and re-created on SQLite, disabled and enabled on Postgres), as someone with
/// direct access to the database could.
pub async fn edit_append_only(hub: &TestHub, table: &str, edit: &str) {
    lift_trigger(hub, table, "UPDATE", edit).await;
}

/// Runs `edit` on an append-only `table` with its `{table}_no_{event}` trigger (`UPDATE` or
/// `DELETE`) lifted for the edit.
pub async fn lift_trigger(hub: &TestHub, table: &str, event: &str, edit: &str) {
    let mut conn = raw_db(hub).await;
    let trigger = format!("{table}_no_{}", event.to_ascii_lowercase());
    let statements: Vec<String> = match hub.db.backend {
        Backend::Postgres => vec![
            format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"),
            edit.to_owned(),
            format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"),
        ],
        Backend::Sqlite => vec![
            format!("DROP TRIGGER {trigger}"),
            edit.to_owned(),
            format!(
                "CREATE TRIGGER {trigger} BEFORE {event} ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            ),
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("edit behind the hub's back");
    }
}

/// BUZ gates that let every credit through (for tests that are not about the gates).
pub fn lax_buz(c: &mut Config) {
    c.buz.gates = hub_rooms::wallets::Gates {
        require_kyc: false,
        min_reputation: 0.0,
        max_credits_per_hour: 1_000_000,
        daily_cap: 1_000_000_000,
    };
}

/// The tests' HTTP client. Its TLS runs on rustls with ring, the provider the hub itself
/// installs (reqwest is built without one).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Starts an upload of a PDF to `addr` as `token` whose request promises `promised` bytes of
/// file but sends only `bytes`; the caller drops the stream to break the upload off.
pub async fn half_upload(
    addr: SocketAddr,
    token: &str,
    promised: usize,
    bytes: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let boundary = "BROKENOFF";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHalf\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nnda\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    );
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + promised
    );
    tcp.write_all(request.as_bytes()).await.expect("send head");
    for chunk in bytes.chunks(64 * 1024) {
        tcp.write_all(chunk).await.expect("send part of the file");
    }
    tcp.flush().await.expect("flush");
    tcp
}

/// The audit log's Merkle tree holds every audit and ledger entry of the database at `url`
/// exactly once, each leaf the one its entry makes, and its head is the root of those leaves.
pub async fn assert_log_holds_every_entry(url: &str) {
    use hub_rooms::merkle::{self, Frontier, LeafKind};
    use std::collections::HashMap;
    let mut conn = raw_db_url(url).await;
    let mut stored: HashMap<(String, String, i64), String> = HashMap::new();
    for (kind, sql) in [
        ("audit", "SELECT scope, seq, hash FROM worm_audits"),
        ("ledger", "SELECT wallet_id, seq, hash FROM wallet_ledgers"),
    ] {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
        for (chain, seq, hash) in rows {
            stored.insert((kind.to_owned(), chain, seq), hash);
        }
    }
    let commits: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT first_idx, count, leaves FROM audit_log ORDER BY first_idx")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut edge = Frontier::default();
    let mut seen = 0usize;
    for (first, count, leaves) in commits {
        assert_eq!(
            first,
            edge.size() as i64,
            "commits follow each other without gaps"
        );
        let leaves: Vec<(String, String, i64, String)> = serde_json::from_str(&leaves).unwrap();
        assert_eq!(leaves.len() as i64, count);
        for (kind, chain, seq, hash) in leaves {
            let key = (kind.clone(), chain.clone(), seq);
            let entry = stored.remove(&key);
            assert_eq!(
                entry.as_deref(),
                Some(hash.as_str()),
                "leaf {}: {key:?} once, as stored",
                edge.size()
            );
            let leaf = merkle::leaf_of(LeafKind::parse(&kind).unwrap(), &chain, seq, &hash);
            edge.push(merkle::leaf_hash(leaf.as_bytes()));
            seen += 1;
        }
    }
    assert!(
        stored.is_empty(),
        "entries without a leaf: {:?}",
        stored.keys().take(5).collect::<Vec<_>>()
    );
    let (size, peaks): (i64, String) =
        sqlx::query_as("SELECT size, peaks FROM audit_log_head WHERE id = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(size, seen as i64);
    let expected: String = edge.peaks().iter().map(hex::encode).collect();
    assert_eq!(peaks, expected, "the head is the edge of the leaves");
}
