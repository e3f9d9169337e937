//! Figures for the audit log's Merkle tree:
//! - appending in memory (the leaf hash and the O(log n) push), per leaf;
//! - appending through the store: audit entries written in transactions of 5,000, per entry,
//!   and how much of that is the log's own part (`hub_audit_log_append_seconds`), so the cost
//!   with and without it;
//! - at the full size (1,000,000 entries by default, `BENCH_ENTRIES`): the checkpoint job's
//!   time, inclusion and consistency proofs (hashes, bytes on the wire, latency), and
//!   `hub audit verify --full` over the whole log.
//!
//! Run: `cargo bench --bench auditlog` (SQLite in a temp dir; `BENCH_DATABASE_URL` for another).

use hub::Config;
use hub_protocol::AccountRole;
use hub_rooms::merkle::{self, Frontier};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-bench-secret-bench-secret";
const BATCH: usize = 5_000;

fn admin() -> String {
    hub::auth::mint_with_secret(
        SECRET.as_bytes(),
        "ops",
        None,
        AccountRole::Admin,
        Duration::from_secs(3600),
    )
    .unwrap()
}

/// The sum and count of a histogram, and a counter, from the process's Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let entries: usize = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()));
    let metrics = hub::telemetry::metrics_handle();

    // In memory.
    let leaves: Vec<_> = (0..entries)
        .map(|i| merkle::leaf_hash(merkle::audit_leaf("user:u1", i as i64, "00").as_bytes()))
        .collect();
    let started = Instant::now();
    let mut edge = Frontier::default();
    for l in &leaves {
        std::hint::black_box(edge.push(*l));
    }
    let push_ns = started.elapsed().as_nanos() as f64 / entries as f64;
    let started = Instant::now();
    for i in 0..entries.min(200_000) {
        std::hint::black_box(merkle::leaf_hash(
            merkle::audit_leaf("user:u1", i as i64, "00").as_bytes(),
        ));
    }
    let leaf_ns = started.elapsed().as_nanos() as f64 / entries.min(200_000) as f64;
    println!("in memory: push {push_ns:.0} ns/leaf, leaf encoding + hash {leaf_ns:.0} ns/leaf");

    // Through the store.
    let store = hub::store::Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let before = metrics.render();
    let started = Instant::now();
    for batch in 0..entries.div_ceil(BATCH) {
        let mut w = store.begin_write().await.unwrap();
        for i in 0..BATCH.min(entries - batch * BATCH) {
            let n = batch * BATCH + i;
            store
                .audit(
                    &mut w,
                    hub::store::NewAudit {
                        scope: format!("user:u{}", n % 1000),
                        ref_id: None,
                        actor_id: Some("bench"),
                        action: "bench.entry",
                        details: json!({"n": n}),
                    },
                )
                .await
                .unwrap();
        }
        w.commit().await.unwrap();
    }
    let total = started.elapsed().as_secs_f64();
    let after = metrics.render();
    let log_s = metric(&after, "hub_audit_log_append_seconds_sum")
        - metric(&before, "hub_audit_log_append_seconds_sum");
    let leaves_logged = metric(&after, "hub_audit_log_leaves_total")
        - metric(&before, "hub_audit_log_leaves_total");
    assert_eq!(leaves_logged as usize, entries);
    let per = |s: f64| s * 1e6 / entries as f64;
    println!(
        "store ({}): {:.2} µs/entry with the log, {:.2} µs/entry of it the log's ({:.1}%), so {:.2} µs/entry without; {:.0} entries/s",
        store.backend().as_str(),
        per(total),
        per(log_s),
        log_s / total * 100.0,
        per(total - log_s),
        entries as f64 / total
    );
    drop(store);

    // A hub on that database: the checkpoint, proofs, the verifier.
    let mut config = Config::new(url.clone(), SECRET.as_bytes().to_vec());
    config.files.dir = dir.path().join("files");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(hub::run_with(
        config,
        hub::Runtime::default(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    while http.get(format!("{base}/api/health")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ops = admin();
    let started = Instant::now();
    let run: Value = http
        .post(format!("{base}/api/debug/jobs/audit-checkpoint/run"))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["result"], "ok", "{run}");
    println!(
        "checkpoint of {entries}: {:.2} s (job {} ms; leaves kept outside: {} MB)",
        started.elapsed().as_secs_f64(),
        run["duration_ms"],
        entries * 32 / 1_000_000
    );
    for (what, path) in [
        (
            "inclusion",
            format!(
                "/api/v1/audit/proof/inclusion?index={}&size={entries}",
                entries * 7 / 9
            ),
        ),
        (
            "consistency",
            format!(
                "/api/v1/audit/proof/consistency?from={}&to={entries}",
                entries / 2 + 1
            ),
        ),
    ] {
        let mut times = Vec::new();
        let mut body = String::new();
        for _ in 0..20 {
            let t = Instant::now();
            body = http
                .get(format!("{base}{path}"))
                .bearer_auth(&ops)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let proof: Value = serde_json::from_str(&body).unwrap();
        let hashes = proof["proof"].as_array().unwrap().len();
        println!(
            "{what} proof at {entries}: {hashes} hashes ({} bytes of hashes, {} bytes of JSON), median {:.2} ms",
            hashes * 32,
            body.len(),
            median(times)
        );
    }
    let vkey: Value = http
        .get(format!("{base}/api/v1/audit/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["audit", "verify", "--url", &base, "--full", "--token", &ops])
        .args(["--key", vkey["vkey"].as_str().unwrap()])
        .args([
            "--checkpoints",
            &dir.path().join("files").display().to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    println!(
        "hub audit verify --full over {entries}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = stop.send(());
    let _ = handle.await;
}
