//! The file store on S3, against a real S3-compatible server: moto's server (from PyPI;
//! `scripts/services` installs it, `HUB_TEST_MOTO` points at another `moto_server`), started by
//! the test on a port of its own. On both backends: a multi-part upload, its download and a
//! range, an object damaged in the bucket found by the scrub and never served whole, an
//! upload broken off midway leaving no object and no pending upload, and deletion. And the
//! audit log's checkpoints in the bucket, verified by `hub audit verify` from the bucket alone.

use crate::common;

use common::{Backend, TestHub, lasting_token as token};
use hub_protocol::AccountRole;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::Digest;
use std::time::Duration;

on_both_backends!(
    files_live_in_an_s3_bucket,
    audit_checkpoints_live_in_the_bucket_and_verify_from_it,
);

fn moto_server() -> std::path::PathBuf {
    match std::env::var_os("HUB_TEST_MOTO") {
        Some(p) => p.into(),
        None => std::path::Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".cache/hub-tools/moto/bin/moto_server"),
    }
}

/// A moto server on a free port, stopped when dropped.
struct Moto {
    _child: tokio::process::Child,
    url: String,
}

async fn start_moto() -> Moto {
    let bin = moto_server();
    assert!(
        bin.exists(),
        "the S3 tests need moto's server at {} (scripts/services installs it; HUB_TEST_MOTO points elsewhere)",
        bin.display()
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start moto_server");
    let url = format!("http://127.0.0.1:{port}");
    let http = common::http_client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while http.get(&url).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "moto_server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Moto { _child: child, url }
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pdf(n: usize, seed: u32) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut x = seed;
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x >> 3) as u8);
    }
    out.truncate(n);
    out
}

/// The keys of the bucket's objects (moto's ListObjectsV2 XML).
async fn objects(moto: &Moto, bucket: &str) -> Vec<String> {
    let xml = common::http_client()
        .get(format!("{}/{bucket}?list-type=2", moto.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

/// Multipart uploads begun and neither completed nor aborted.
async fn pending_uploads(moto: &Moto, bucket: &str) -> usize {
    let xml = common::http_client()
        .get(format!("{}/{bucket}?uploads", moto.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.matches("<Upload>").count()
}

async fn files_live_in_an_s3_bucket(backend: Backend) {
    let moto = start_moto().await;
    let bucket = format!("hub-{}", uuid::Uuid::now_v7().simple());
    let made = common::http_client()
        .put(format!("{}/{bucket}", moto.url))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    let endpoint = moto.url.clone();
    let b2 = bucket.clone();
    let hub = TestHub::start_with(backend, move |c| {
        c.files.url = Some(format!("s3://{b2}/tenant-a"));
        c.files.s3_options = [
            ("endpoint", endpoint.as_str()),
            ("allow_http", "true"),
            ("region", "us-east-1"),
            ("access_key_id", "test"),
            ("secret_access_key", "test"),
            ("virtual_hosted_style_request", "false"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    })
    .await;
    let alice = token("alice", AccountRole::User);
    let admin = token("ops", AccountRole::Admin);
    hub.get("/api/v1/me", &admin).await;
    // 11 MiB: three parts of the multipart upload.
    let bytes = pdf(11 * 1024 * 1024 + 7, 42);
    let form = Form::new()
        .text("title", "Data room")
        .text("type", "archive")
        .part(
            "file",
            Part::bytes(bytes.clone())
                .file_name("room.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let resp = hub
        .http
        .post(hub.url("/api/v1/documents"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["checksum_sha256"], sha256_hex(&bytes));
    let id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(
        objects(&moto, &bucket).await,
        [format!("tenant-a/files/{id}")]
    );
    assert_eq!(pending_uploads(&moto, &bucket).await, 0);

    let path = format!("/api/v1/documents/{id}/content");
    let whole = hub
        .http
        .get(hub.url(&path))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(
        sha256_hex(&whole.bytes().await.unwrap()),
        sha256_hex(&bytes)
    );
    let part = hub
        .http
        .get(hub.url(&path))
        .bearer_auth(&alice)
        .header("range", "bytes=5242878-5242881")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        &part.bytes().await.unwrap()[..],
        &bytes[5_242_878..=5_242_881],
        "across a part boundary"
    );

    // Damaged in the bucket: never served whole, found by the scrub.
    let damaged = pdf(bytes.len(), 43);
    let put = common::http_client()
        .put(format!("{}/{bucket}/tenant-a/files/{id}", moto.url))
        .body(damaged)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let cut = match hub
        .http
        .get(hub.url(&path))
        .bearer_auth(&alice)
        .send()
        .await
    {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(cut, "a damaged object was served whole");
    let (status, run) = hub
        .post("/api/debug/jobs/files-scrub/run", &admin, json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(run["output"]["corrupted"], 1, "{run}");
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}"), &alice).await.1["corrupted"],
        true
    );

    // An upload broken off midway: no object, no multipart upload left pending.
    let tcp =
        common::half_upload(hub.addr, &alice, 16 * 1024 * 1024, &pdf(7 * 1024 * 1024, 9)).await;
    // The hub has begun its multipart upload; then the client goes away.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while pending_uploads(&moto, &bucket).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload never began"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(tcp);
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while pending_uploads(&moto, &bucket).await > 0 || objects(&moto, &bucket).await.len() > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the broken upload left something behind"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Deleting removes the object.
    assert_eq!(
        hub.delete(&format!("/api/v1/documents/{id}"), &alice)
            .await
            .0,
        204
    );
    assert!(objects(&moto, &bucket).await.is_empty());
    hub.stop().await.unwrap();
}

async fn audit_checkpoints_live_in_the_bucket_and_verify_from_it(backend: Backend) {
    let moto = start_moto().await;
    let bucket = format!("hub-{}", uuid::Uuid::now_v7().simple());
    let made = common::http_client()
        .put(format!("{}/{bucket}", moto.url))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success());
    let endpoint = moto.url.clone();
    let b2 = bucket.clone();
    let hub = TestHub::start_with(backend, move |c| {
        c.files.url = Some(format!("s3://{b2}/tenant-a"));
        c.files.s3_options = [
            ("endpoint", endpoint.as_str()),
            ("allow_http", "true"),
            ("region", "us-east-1"),
            ("access_key_id", "test"),
            ("secret_access_key", "test"),
            ("virtual_hosted_style_request", "false"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    })
    .await;
    let admin = token("ops", AccountRole::Admin);
    hub.venture("alice", "Acme").await;
    hub.venture("alice", "Beta").await;
    let (status, run) = hub
        .post("/api/debug/jobs/audit-checkpoint/run", &admin, json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(run["result"], "ok", "{run}");
    let size = run["output"]["size"].as_u64().unwrap();
    assert!(size >= 2, "{run}");
    let keys = objects(&moto, &bucket).await;
    let prefixed = |p: &str| keys.iter().filter(|k| k.starts_with(p)).count();
    assert_eq!(prefixed("tenant-a/audit/checkpoints/"), 1, "{keys:?}");
    assert_eq!(prefixed("tenant-a/audit/leaves/"), 1, "{keys:?}");

    let (status, key) = hub.get("/api/v1/audit/key", &admin).await;
    assert_eq!(status, 200);
    let verify = |place: String| {
        let moto = moto.url.clone();
        let key = key["vkey"].as_str().unwrap().to_owned();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
                .args(["audit", "verify", "--key", &key, "--checkpoints", &place])
                .env("AWS_ENDPOINT", moto)
                .env("AWS_ALLOW_HTTP", "true")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false")
                .output()
                .await
                .unwrap()
        }
    };
    let out = verify(format!("s3://{bucket}/tenant-a")).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("OK: the log of {size} entries verifies")),
        "{text}"
    );
    // Another tenant's prefix holds no checkpoint: nothing to vouch for.
    let out = verify(format!("s3://{bucket}/tenant-b")).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    hub.stop().await.unwrap();
}
