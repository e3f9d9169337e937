//! The load tester against a real hub (and the Node peer), small sizes: every scenario runs,
//! and its summary says what really happened.

use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const SECRET: &str = "loadtest-secret-loadtest-secret-loadtest";

async fn hub(grace: Duration) -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    hub_with(grace, |_| {}).await
}

async fn hub_with(
    grace: Duration,
    tweak: impl FnOnce(&mut hub::Config),
) -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = hub::Config::new(
        format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()),
        SECRET.as_bytes().to_vec(),
    );
    config.chat.rate_per_second = 1000.0;
    config.chat.burst = 1000;
    config.presence.grace = grace;
    // Every simulated client comes from this one address.
    config.conn_limits = hub_rooms::conns::ConnLimits::none();
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hub::run(config, listener, async move {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/api/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (base, tx, dir)
}

async fn loadtest(target: &str, peer: &str, args: &[&str]) -> Value {
    loadtest_with(target, peer, &["--jwt-secret", SECRET], args).await
}

async fn loadtest_with(target: &str, peer: &str, auth: &[&str], args: &[&str]) -> Value {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("summary.json");
    let plot = out_dir.path().join("latency.svg");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadtest"));
    cmd.args(["--target", target, "--peer", peer, "--quiet"])
        .args(auth)
        .arg("--json")
        .arg(&json)
        .arg("--plot")
        .arg(&plot)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("loadtest timed out")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "loadtest failed:\n{text}");
    if args[0] == "chat" {
        let svg = std::fs::read_to_string(&plot).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("p99"), "no plot");
    }
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_against_the_hub_delivers_everything_in_order() {
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    let s = loadtest(
        &base,
        "hub",
        &[
            "chat",
            "--rooms",
            "2",
            "--members",
            "25",
            "--publishers",
            "4",
            "--rate",
            "40",
            "--duration",
            "2",
            "--drain",
            "2",
        ],
    )
    .await;
    assert_eq!(s["receivers"], 50, "{s}");
    assert_eq!(s["ack_errors"], 0, "{s}");
    assert!(s["acked"].as_u64().unwrap() >= 60, "{s}");
    assert_eq!(s["delivered"], s["expected_deliveries"], "{s}");
    assert_eq!(
        (s["seq_gaps"].as_u64(), s["duplicates"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert!(s["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_holds_connections_and_reads_memory() {
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    let pid = std::process::id().to_string();
    let s = loadtest(
        &base,
        "hub",
        &[
            "idle",
            "--connections",
            "300",
            "--rate",
            "1000",
            "--hold",
            "1",
            "--pid",
            &pid,
        ],
    )
    .await;
    assert_eq!(s["connected"], 300, "{s}");
    // The gauge is per process, and other tests' hubs share this one.
    assert!(
        s["hub_reported_connections"].as_u64().unwrap() >= 300,
        "{s}"
    );
    assert_eq!(s["dropped_during_hold"], 0, "{s}");
    assert!(s["target_rss_after_kib"].as_u64().is_some());
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_churn_leaves_no_ghosts() {
    let (base, stop, _dir) = hub(Duration::from_millis(200)).await;
    let s = loadtest(
        &base,
        "hub",
        &[
            "presence",
            "--rate",
            "20",
            "--duration",
            "2",
            "--stay-ms",
            "300",
            "--grace-ms",
            "200",
        ],
    )
    .await;
    assert_eq!(s["users"], 40, "{s}");
    assert_eq!(s["joins_seen"], 40, "{s}");
    assert_eq!(s["leaves_seen"], 40, "{s}");
    assert_eq!(
        (s["unmatched"].as_u64(), s["ghosts_at_end"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_against_the_node_peer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/socketio-node");
    assert!(
        dir.join("node_modules").exists(),
        "run `npm ci --prefix loadtest/peers/socketio-node`"
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut node = tokio::process::Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let stdout = node.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("peer did not start")
        .unwrap();
    assert!(ready.unwrap_or_default().contains("listening"));
    let s = loadtest(
        &format!("http://127.0.0.1:{port}"),
        "socketio-node",
        &[
            "chat",
            "--members",
            "20",
            "--publishers",
            "2",
            "--rate",
            "20",
            "--duration",
            "2",
            "--drain",
            "1",
        ],
    )
    .await;
    assert_eq!(s["delivered"], s["expected_deliveries"], "{s}");
    assert_eq!(s["seq_gaps"], 0, "{s}");
    let _ = node.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_editors_converge() {
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    // 2 documents x 4 editors at 10 updates/s for 2 s, then the given options.
    let docs = |more: &[&'static str]| {
        let mut args = vec![
            "docs",
            "--docs",
            "2",
            "--editors",
            "4",
            "--rate",
            "10",
            "--duration",
            "2",
            "--drain",
            "2",
        ];
        args.extend_from_slice(more);
        args
    };
    let s = loadtest(&base, "hub", &docs(&[])).await;
    assert_eq!(s["converged_documents"], 2, "{s}");
    let sent = s["updates_sent"].as_u64().unwrap();
    assert!(sent >= 100, "{s}");
    // Every update reaches the 3 other editors of its document.
    assert_eq!(s["updates_received"].as_u64().unwrap(), sent * 3, "{s}");
    assert!(s["frames_received"].as_u64().unwrap() <= sent * 3, "{s}");
    assert!(s["latency"]["samples"].as_u64().unwrap() >= sent * 3);
    assert_eq!(s["appliers"], 4, "{s}");

    // Two editors of each document replay, the other two only read: nothing is lost either
    // way, and the two that replay agree.
    let s = loadtest(&base, "hub", &docs(&["--appliers", "2"])).await;
    assert_eq!(s["appliers"], 2, "{s}");
    assert_eq!(s["converged_documents"], 2, "{s}");
    let sent = s["updates_sent"].as_u64().unwrap();
    assert_eq!(s["updates_received"].as_u64().unwrap(), sent * 3, "{s}");
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_can_come_from_a_file() {
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    let lines: Vec<String> = (0..20)
        .map(|i| {
            let user = format!("idle-{i}");
            let token = hub::auth::mint_with_secret(
                SECRET.as_bytes(),
                &user,
                None,
                hub_protocol::AccountRole::User,
                Duration::from_secs(600),
            )
            .unwrap();
            format!("{user} {token}")
        })
        .collect();
    std::fs::write(file.path(), lines.join("\n")).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let s = loadtest_with(
        &base,
        "hub",
        &["--tokens", &path],
        &["idle", "--connections", "20", "--hold", "1"],
    )
    .await;
    assert_eq!(
        (s["connected"].as_u64(), s["failed"].as_u64()),
        (Some(20), Some(0)),
        "{s}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_is_closed_by_the_hub_and_spares_honest_editors() {
    let (base, stop, _dir) = hub_with(Duration::from_millis(100), |c| {
        c.socket.write_timeout = Duration::from_millis(300);
        c.socket.connect_timeout = Duration::from_millis(300);
    })
    .await;
    // The hub runs in this process: its memory is ours.
    let pid = std::process::id().to_string();
    let s = loadtest(
        &base,
        "hub",
        &[
            "abuse",
            "--pid",
            &pid,
            "--stalled",
            "2",
            "--echoes",
            "8",
            "--stall-seconds",
            "2",
            "--handshakes",
            "40",
            "--handshake-rate",
            "200",
            "--flooders",
            "2",
            "--flood-seconds",
            "1",
            "--rest",
            "0",
            "--settle",
            "20",
        ],
    )
    .await;
    assert_eq!(s["stalled"]["closed_by_hub"], 2, "{s}");
    assert_eq!(s["handshakes"]["closed_by_hub"], 40, "{s}");
    assert_eq!(s["handshakes"]["failed_to_open"], 0, "{s}");
    assert_eq!(s["awareness"]["editors_still_connected"], 2, "{s}");
    assert!(
        s["awareness"]["flooders_closed_1009"].as_u64().unwrap() >= 1,
        "{s}"
    );
    for kind in ["stalled", "handshakes", "awareness"] {
        let m = &s[kind]["memory"];
        assert!(m["rss_peak_kib"].as_u64().unwrap() >= m["rss_before_kib"].as_u64().unwrap());
    }
    let _ = stop.send(());
}

/// Runs the loadtest binary and returns (exit code, stderr).
async fn loadtest_fails(args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_explained_in_one_line() {
    // No way to mint tokens the hub accepts.
    let (code, err) = loadtest_fails(&["--quiet", "idle", "--connections", "1"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("--data-dir") && err.contains("JWT_SECRET"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // Nothing listening there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let target = format!("http://127.0.0.1:{port}");
    let (code, err) = loadtest_fails(&[
        "--target",
        &target,
        "--jwt-secret",
        SECRET,
        "--quiet",
        "idle",
        "--connections",
        "1",
    ])
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach the target"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // Tokens signed with another secret: refused, and why.
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args([
            "--target",
            &base,
            "--jwt-secret",
            "another-secret-another-secret-another-secret",
            "--quiet",
            "idle",
            "--connections",
            "3",
            "--hold",
            "0",
        ])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the connection (unauthorized: invalid token)")
            && err.contains("--data-dir"),
        "{err}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_rate_limit_is_reported_with_its_limit() {
    let (base, stop, _dir) = hub_with(Duration::from_secs(5), |c| {
        c.chat.rate_per_second = 1.0;
        c.chat.burst = 2;
    })
    .await;
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("summary.json");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args([
            "--target",
            &base,
            "--jwt-secret",
            SECRET,
            "--quiet",
            "--json",
        ])
        .arg(&json)
        .args([
            "chat",
            "--members",
            "2",
            "--publishers",
            "1",
            "--rate",
            "20",
            "--duration",
            "1",
            "--drain",
            "1",
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let limited = s["ack_errors_by_code"]["rate_limited"]
        .as_u64()
        .unwrap_or(0);
    assert!(limited > 0, "{s}");
    assert_eq!(s["ack_errors"].as_u64(), Some(limited), "{s}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rate_limited") && err.contains("at most 1 a second (bursts of 2)"),
        "{err}"
    );
    let _ = stop.send(());
}

/// A run where every connection failed (here, tokens signed with another secret) measured
/// nothing: it fails, and says why, instead of reporting zeros with exit code 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_every_connection_failed_exits_non_zero() {
    let (base, stop, _dir) = hub(Duration::from_secs(5)).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args(["--target", &base, "--peer", "hub", "--quiet"])
        .args(["--jwt-secret", "not-the-hubs-secret-not-the-hubs-secret!"])
        .args(["idle", "--connections", "5", "--rate", "100", "--hold", "0"])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("every one of the 5 connections failed to connect"),
        "{stderr}"
    );
    let _ = stop.send(());
}
