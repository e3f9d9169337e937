//! Uploaded documents on both backends: a multi-megabyte round trip with its checksum and
//! ranges, size and type refusals, an upload broken off midway leaving nothing behind, a file
//! corrupted on disk caught on download (the client never gets a complete corrupt file) and by
//! the scrub, the share matrix (owner, user share, client link, expired, revoked, others),
//! comments by permission, legal holds, clients, and signatures with real P-256 keys made by
//! WebCrypto in Node (good, wrong key, another user's key, tampered message, changed document).

use crate::common;

use common::node::run_node;
use common::sio::Sio;
use common::{Backend, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::Digest;
use std::time::Duration;

on_both_backends!(
    a_large_file_round_trips_with_its_checksum_and_ranges,
    sizes_types_and_forms_are_checked,
    an_upload_broken_off_midway_leaves_nothing,
    a_corrupted_file_is_never_served_whole_and_the_scrub_finds_it,
    shares_decide_who_reads_comments_and_signs,
    holds_keep_documents_and_clients_are_their_owners,
    signatures_verify_webcrypto_keys,
    a_signature_is_bound_to_its_request_and_signer,
    refused_uploads_reach_node_fetch_with_their_status,
    text_is_checked_whole_names_lose_bidi_and_ranges_read_only_the_range,
);

fn user(u: &str) -> String {
    token(u, AccountRole::User)
}

fn admin() -> String {
    token("ops", AccountRole::Admin)
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `n` bytes of a PDF-looking file, not compressible into anything simple.
fn pdf(n: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 0x1234_5678;
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x & 0xff) as u8);
    }
    out.truncate(n);
    out
}

async fn upload_form(hub: &TestHub, tok: &str, form: Form) -> (u16, Value) {
    let resp = hub
        .http
        .post(hub.url("/api/v1/documents"))
        .bearer_auth(tok)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn form(title: &str, bytes: Vec<u8>, name: &str, mime: &str) -> Form {
    Form::new()
        .text("title", title.to_owned())
        .text("type", "contract")
        .part(
            "file",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str(mime)
                .unwrap(),
        )
}

async fn upload(hub: &TestHub, tok: &str, title: &str, bytes: Vec<u8>) -> Value {
    let (status, doc) =
        upload_form(hub, tok, form(title, bytes, "deal.pdf", "application/pdf")).await;
    assert_eq!(status, 201, "{doc}");
    doc
}

async fn download(
    hub: &TestHub,
    tok: Option<&str>,
    path: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut req = hub.http.get(hub.url(path));
    if let Some(t) = tok {
        req = req.bearer_auth(t);
    }
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.expect("download")
}

/// A whole download: its bytes, or why it failed. When the hub cuts a transfer, the client sees
/// it as a failed request or a failed body, depending on how far the hub got.
async fn fetch(
    hub: &TestHub,
    tok: &str,
    path: &str,
    range: Option<&str>,
) -> Result<Vec<u8>, String> {
    let mut req = hub.http.get(hub.url(path)).bearer_auth(tok);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}"));
    }
    Ok(body.to_vec())
}

/// Regular files under `dir`, at any depth.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn a_large_file_round_trips_with_its_checksum_and_ranges(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    let bytes = pdf(3 * 1024 * 1024 + 123);
    let doc = upload(&hub, &alice, "Master agreement", bytes.clone()).await;
    assert_eq!(doc["checksum_sha256"], sha256_hex(&bytes));
    assert_eq!(doc["size"], bytes.len());
    assert_eq!(
        (
            doc["type"].clone(),
            doc["content_type"].clone(),
            doc["file_name"].clone()
        ),
        (
            json!("contract"),
            json!("application/pdf"),
            json!("deal.pdf")
        )
    );
    assert_eq!(
        (doc["on_hold"].clone(), doc["owner_id"].clone()),
        (json!(false), json!("alice"))
    );
    let id = doc["id"].as_str().unwrap();
    let path = format!("/api/v1/documents/{id}/content");

    let whole = download(&hub, Some(&alice), &path, None).await;
    assert_eq!(whole.status(), 200);
    let h = whole.headers().clone();
    assert_eq!(h["etag"], format!("\"{}\"", sha256_hex(&bytes)));
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename=\"deal.pdf\"")
    );
    let got = whole.bytes().await.unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&bytes));

    for (range, start, end) in [
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-100", bytes.len() - 100, bytes.len() - 1),
        ("bytes=3145000-", 3_145_000, bytes.len() - 1),
    ] {
        let part = download(&hub, Some(&alice), &path, Some(range)).await;
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {start}-{end}/{}", bytes.len())
        );
        assert_eq!(
            &part.bytes().await.unwrap()[..],
            &bytes[start..=end],
            "{range}"
        );
    }
    let outside = download(&hub, Some(&alice), &path, Some("bytes=9999999-")).await;
    assert_eq!(outside.status(), 416);
    assert_eq!(
        outside.headers()["content-range"],
        format!("bytes */{}", bytes.len())
    );
    let cached = hub
        .http
        .get(hub.url(&path))
        .bearer_auth(&alice)
        .header("if-none-match", format!("\"{}\"", sha256_hex(&bytes)))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let (status, list) = hub.get("/api/v1/documents?scope=mine", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(list["documents"][0]["id"], id);
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}"), &alice).await.1["title"],
        "Master agreement"
    );
    // Deleting removes the row and the stored content.
    assert_eq!(
        hub.delete(&format!("/api/v1/documents/{id}"), &alice)
            .await
            .0,
        204
    );
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}"), &alice).await.0,
        404
    );
    assert!(files_under(&hub.db.dir().join("files")).is_empty());
    hub.stop().await.unwrap();
}

async fn sizes_types_and_forms_are_checked(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.files.max_bytes = 100 * 1024).await;
    let alice = user("alice");
    let too_big = form("Big", pdf(200 * 1024), "big.pdf", "application/pdf");
    let (status, err) = upload_form(&hub, &alice, too_big).await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (413, json!("too_large")),
        "{err}"
    );
    let at_limit = form("Just", pdf(100 * 1024), "just.pdf", "application/pdf");
    assert_eq!(upload_form(&hub, &alice, at_limit).await.0, 201);
    for (f, status, starts) in [
        (
            form(
                "Exe",
                b"MZ\x90\0rest".to_vec(),
                "a.exe",
                "application/x-msdownload",
            ),
            415,
            "file",
        ),
        (
            form("Fake", b"MZ\x90\0rest".to_vec(), "a.pdf", "application/pdf"),
            415,
            "file",
        ),
        (
            form("Bin", b"text\0with nul".to_vec(), "a.txt", "text/plain"),
            415,
            "file",
        ),
        (
            Form::new().text("type", "contract").part(
                "file",
                Part::bytes(pdf(100)).mime_str("application/pdf").unwrap(),
            ),
            400,
            "title",
        ),
        (
            Form::new()
                .text("title", "T")
                .text("type", "Not A Type")
                .part(
                    "file",
                    Part::bytes(pdf(100)).mime_str("application/pdf").unwrap(),
                ),
            400,
            "type",
        ),
        (
            Form::new().text("title", "T").text("type", "nda"),
            400,
            "file",
        ),
        (
            form("T", pdf(100), "a.pdf", "application/pdf").text("colour", "red"),
            400,
            "colour",
        ),
        (
            form("T", pdf(100), "a.pdf", "application/pdf").text("venture_id", "not-mine"),
            404,
            "",
        ),
    ] {
        let (got, err) = upload_form(&hub, &alice, f).await;
        assert_eq!(got, status, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(starts),
            "{err}"
        );
    }
    // A small text file is sniffed whole; its name keeps no path.
    let (status, doc) = upload_form(
        &hub,
        &alice,
        form(
            "Notes",
            "héllo\n".as_bytes().to_vec(),
            "../../notes.txt",
            "text/plain; charset=utf-8",
        ),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(
        (doc["file_name"].clone(), doc["content_type"].clone()),
        (json!("notes.txt"), json!("text/plain"))
    );
    // Nothing refused left anything behind: two documents, two stored files.
    assert_eq!(files_under(&hub.db.dir().join("files")).len(), 2);
    assert_eq!(
        hub.get("/api/v1/documents", &alice).await.1["documents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    hub.stop().await.unwrap();
}

async fn an_upload_broken_off_midway_leaves_nothing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    hub.get("/api/v1/me", &alice).await;
    // 6 MiB of the promised 8: more than one part of the multipart upload has been written.
    let tcp = common::half_upload(hub.addr, &alice, 8 * 1024 * 1024, &pdf(6 * 1024 * 1024)).await;
    drop(tcp);
    // The hub notices the broken stream and removes what it had written.
    let dir = hub.db.dir().join("files");
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        if files_under(&dir).is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "left behind: {:?}",
            files_under(&dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        hub.get("/api/v1/documents", &alice).await.1["documents"],
        json!([])
    );
    hub.stop().await.unwrap();
}

async fn a_corrupted_file_is_never_served_whole_and_the_scrub_finds_it(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    hub.get("/api/v1/me", &admin()).await; // the admin is known as one
    let mut ops = Sio::connect(hub.addr, &admin()).await;
    let bytes = pdf(300 * 1024);
    let doc = upload(&hub, &alice, "Deed", bytes.clone()).await;
    let id = doc["id"].as_str().unwrap().to_owned();
    // One byte flipped on disk, behind the hub's back.
    let stored = hub.db.dir().join("files").join("files").join(&id);
    let mut damaged = std::fs::read(&stored).unwrap();
    damaged[200_000] ^= 0xff;
    std::fs::write(&stored, &damaged).unwrap();
    let whole = fetch(
        &hub,
        &alice,
        &format!("/api/v1/documents/{id}/content"),
        None,
    )
    .await;
    assert!(whole.is_err(), "a corrupt file was served whole");
    let told = ops
        .event_where("notification", |n| n["kind"] == "file_corrupted")
        .await;
    assert_eq!(told["data"]["document_id"], id);
    assert_eq!(told["data"]["found_by"], "download");
    assert_eq!(told["data"]["actual_sha256"], sha256_hex(&damaged));
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}"), &alice).await.1["corrupted"],
        true
    );
    // A range is checked against the whole file too.
    let part = fetch(
        &hub,
        &alice,
        &format!("/api/v1/documents/{id}/content"),
        Some("bytes=0-99"),
    )
    .await;
    assert!(part.is_err(), "{part:?}");

    // The scrub finds a second one, damaged after its upload, and leaves the sound one alone.
    let sound = upload(&hub, &alice, "Sound", pdf(1000)).await;
    let other = upload(&hub, &alice, "Other", pdf(5000)).await;
    let oid = other["id"].as_str().unwrap();
    std::fs::write(
        hub.db.dir().join("files").join("files").join(oid),
        pdf(4999),
    )
    .unwrap();
    let (status, run) = hub
        .post("/api/debug/jobs/files-scrub/run", &admin(), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        run["output"],
        json!({"checked": 3, "corrupted": 2, "missing": 0}),
        "{run}"
    );
    let told = ops
        .event_where("notification", |n| {
            n["kind"] == "file_corrupted" && n["data"]["found_by"] == "scrub"
        })
        .await;
    assert_eq!(
        told["data"]["document_id"], oid,
        "the first one was flagged already"
    );
    assert_eq!(
        hub.get(
            &format!("/api/v1/documents/{}", sound["id"].as_str().unwrap()),
            &alice
        )
        .await
        .1["corrupted"],
        false
    );
    hub.stop().await.unwrap();
}

async fn shares_decide_who_reads_comments_and_signs(backend: Backend) {
    let clock = ManualClock::new(today_at(3));
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    let (alice, bob, carol, dan, eve) = (
        user("alice"),
        user("bob"),
        user("carol"),
        user("dan"),
        user("eve"),
    );
    for t in [&bob, &carol, &dan, &eve] {
        hub.get("/api/v1/me", t).await;
    }
    let bytes = pdf(10_000);
    let doc = upload(&hub, &alice, "Term sheet", bytes.clone()).await;
    let id = doc["id"].as_str().unwrap().to_owned();
    let share = |body: Value| {
        let (hub, alice, id) = (&hub, &alice, &id);
        async move {
            hub.post(&format!("/api/v1/documents/{id}/share"), alice, body)
                .await
        }
    };
    let mut live = Sio::connect(hub.addr, &bob).await;
    // bob views; carol views and comments; dan's share expires in an hour; eve has nothing.
    let (status, s_bob) = share(json!({"to_user_id": "bob"})).await;
    assert_eq!(status, 201, "{s_bob}");
    assert_eq!(
        (s_bob["can_view"].clone(), s_bob["can_comment"].clone()),
        (json!(true), json!(false))
    );
    let told = live
        .event_where("notification", |n| n["kind"] == "document_shared")
        .await;
    assert_eq!(told["data"]["document_id"], id);
    share(json!({"to_user_id": "carol", "can_comment": true})).await;
    let in_an_hour = hub::store::rfc3339(today_at(4));
    let (_, s_dan) = share(json!({"to_user_id": "dan", "expires_at": in_an_hour})).await;
    for (body, status) in [
        (json!({}), 400),
        (json!({"to_user_id": "bob", "client_id": "c"}), 400),
        (json!({"to_user_id": "alice"}), 400),
        (json!({"client_id": "not-mine"}), 404),
        (
            json!({"to_user_id": "bob", "expires_at": "2000-01-01T00:00:00Z"}),
            400,
        ),
        (json!({"to_user_id": "bob", "can_view": false}), 400),
    ] {
        assert_eq!(share(body.clone()).await.0, status, "{body}");
    }
    assert_eq!(
        hub.post(
            &format!("/api/v1/documents/{id}/share"),
            &bob,
            json!({"to_user_id": "eve"})
        )
        .await
        .0,
        403
    );

    let content = format!("/api/v1/documents/{id}/content");
    let reads = |who: &str| {
        let (hub, content, tok) = (&hub, &content, user(who));
        async move {
            download(hub, Some(&tok), content, None)
                .await
                .status()
                .as_u16()
        }
    };
    for (who, status) in [
        ("alice", 200),
        ("bob", 200),
        ("carol", 200),
        ("dan", 200),
        ("eve", 404),
    ] {
        assert_eq!(reads(who).await, status, "{who}");
    }
    let (_, shared) = hub.get("/api/v1/documents?scope=shared", &bob).await;
    assert_eq!(shared["documents"][0]["id"], id);
    assert_eq!(
        hub.get("/api/v1/documents?scope=shared", &eve).await.1["documents"],
        json!([])
    );
    // Comments: carol may, bob may read them but not write.
    let comments = format!("/api/v1/documents/{id}/comments");
    let (status, c) = hub
        .post(&comments, &carol, json!({"body": "Clause 4 needs a cap."}))
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(
        hub.post(&comments, &bob, json!({"body": "me too"})).await.0,
        403
    );
    assert_eq!(
        hub.post(&comments, &eve, json!({"body": "hi"})).await.0,
        404
    );
    assert_eq!(
        hub.post(&comments, &carol, json!({"body": ""})).await.0,
        400
    );
    assert_eq!(
        hub.post(&comments, &alice, json!({"body": "Agreed."}))
            .await
            .0,
        201
    );
    let (_, list) = hub.get(&comments, &bob).await;
    let bodies: Vec<&str> = list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Clause 4 needs a cap.", "Agreed."]);
    let (_, notes) = hub.get("/api/v1/notifications", &alice).await;
    assert_eq!(notes["notifications"][0]["kind"], "document_commented");

    // A client link: no account, a signed token, revocable.
    let (status, client) = hub
        .post(
            "/api/v1/clients",
            &alice,
            json!({"name": "Globex", "email": "legal@globex.example"}),
        )
        .await;
    assert_eq!(status, 201, "{client}");
    let (status, s_client) = share(json!({"client_id": client["id"]})).await;
    assert_eq!(status, 201, "{s_client}");
    let link = s_client["link"].as_str().unwrap().to_owned();
    let (status, seen) = hub.call(Method::GET, &link, None, None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["document"]["checksum_sha256"], sha256_hex(&bytes));
    let via_link = download(&hub, None, &format!("{link}/content"), Some("bytes=0-8")).await;
    assert_eq!(via_link.status(), 206);
    assert_eq!(&via_link.bytes().await.unwrap()[..], b"%PDF-1.7\n");
    let forged = format!("{}x", &link);
    assert_eq!(hub.call(Method::GET, &forged, None, None).await.0, 404);
    assert_eq!(
        hub.call(Method::GET, "/api/v1/shared/not-a-token", None, None)
            .await
            .0,
        404
    );
    // A sign-in token is not a link, and a link is not a sign-in token.
    assert_eq!(
        hub.call(Method::GET, &format!("/api/v1/shared/{alice}"), None, None)
            .await
            .0,
        404
    );
    let link_token = link.rsplit('/').next().unwrap();
    assert_eq!(hub.get("/api/v1/me", link_token).await.0, 401);

    // An hour later dan's share has expired; revoking bob's and the client's ends them at once.
    clock.advance(Duration::from_secs(3601));
    assert_eq!(reads("dan").await, 404);
    let (_, list) = hub
        .get(&format!("/api/v1/documents/{id}/shares"), &alice)
        .await;
    assert_eq!(list["shares"].as_array().unwrap().len(), 4);
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}/shares"), &bob)
            .await
            .0,
        403
    );
    for s in [&s_bob, &s_client] {
        let path = format!(
            "/api/v1/documents/{id}/shares/{}",
            s["id"].as_str().unwrap()
        );
        assert_eq!(hub.delete(&path, &alice).await.0, 204);
    }
    assert_eq!(
        hub.delete(&format!("/api/v1/documents/{id}/shares/nope"), &alice)
            .await
            .0,
        404
    );
    assert_eq!(reads("bob").await, 404);
    assert_eq!(reads("carol").await, 200);
    assert_eq!(hub.call(Method::GET, &link, None, None).await.0, 404);
    let _ = s_dan;
    hub.stop().await.unwrap();
}

async fn holds_keep_documents_and_clients_are_their_owners(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    let doc = upload(&hub, &alice, "Lease", pdf(2000)).await;
    let id = doc["id"].as_str().unwrap();
    let hold = format!("/api/v1/documents/{id}/hold");
    assert_eq!(
        hub.post(&hold, &alice, json!({"reason": "mine"})).await.0,
        403
    );
    assert_eq!(
        hub.post(&hold, &admin(), json!({"reason": ""})).await.0,
        400
    );
    let (status, held) = hub
        .post(&hold, &admin(), json!({"reason": "litigation 2026-114"}))
        .await;
    assert_eq!((status, held["on_hold"].clone()), (200, json!(true)));
    let (status, err) = hub.delete(&format!("/api/v1/documents/{id}"), &alice).await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (409, json!("conflict"))
    );
    // Shares may still be revoked under a hold.
    let (_, s) = hub
        .post(
            &format!("/api/v1/documents/{id}/share"),
            &alice,
            json!({"to_user_id": "bob"}),
        )
        .await;
    assert_eq!(
        hub.delete(
            &format!(
                "/api/v1/documents/{id}/shares/{}",
                s["id"].as_str().unwrap()
            ),
            &alice
        )
        .await
        .0,
        204
    );
    let (status, released) = hub.delete(&hold, &admin()).await;
    assert_eq!((status, released["on_hold"].clone()), (200, json!(false)));
    assert_eq!(
        hub.delete(&format!("/api/v1/documents/{id}"), &alice)
            .await
            .0,
        204
    );

    // Clients: the owner's only, fields checked, every change audited.
    let (status, c) = hub
        .post(
            "/api/v1/clients",
            &alice,
            json!({"name": "Initech", "phone": "+1 (555) 010-9999", "tags": ["vip", "us"]}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let cid = c["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "email": "nope"}), "email"),
        (json!({"name": "X", "phone": "call me"}), "phone"),
        (
            json!({"name": "X", "organization": "o".repeat(121)}),
            "organization",
        ),
    ] {
        let (status, err) = hub.post("/api/v1/clients", &alice, body).await;
        assert_eq!(status, 400);
        assert!(err["error"]["message"].as_str().unwrap().starts_with(field));
    }
    let path = format!("/api/v1/clients/{cid}");
    assert_eq!(hub.get(&path, &user("bob")).await.0, 404);
    assert_eq!(hub.delete(&path, &user("bob")).await.0, 404);
    let (status, patched) = hub
        .call(
            Method::PATCH,
            &path,
            Some(&alice),
            Some(json!({"email": "it@initech.example", "phone": null})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["email"].clone(), patched["phone"].clone()),
        (json!("it@initech.example"), Value::Null)
    );
    assert_eq!(patched["tags"], json!(["vip", "us"]));
    assert_eq!(
        hub.get("/api/v1/clients", &alice).await.1["clients"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        hub.get("/api/v1/clients", &user("bob")).await.1["clients"],
        json!([])
    );
    // Deleting a client revokes its links.
    let doc = upload(&hub, &alice, "For Initech", pdf(500)).await;
    let (_, s) = hub
        .post(
            &format!("/api/v1/documents/{}/share", doc["id"].as_str().unwrap()),
            &alice,
            json!({"client_id": cid}),
        )
        .await;
    let link = s["link"].as_str().unwrap().to_owned();
    assert_eq!(hub.call(Method::GET, &link, None, None).await.0, 200);
    assert_eq!(hub.delete(&path, &alice).await.0, 204);
    assert_eq!(hub.call(Method::GET, &link, None, None).await.0, 404);
    // Everything is in the chains, which hold.
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    assert_eq!(report["ok"], true);
    let alice_chain = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "user:alice")
        .cloned()
        .unwrap();
    // upload, hold placed, share, share revoked, hold lifted, delete, client created, changed,
    // upload, share, client deleted.
    assert_eq!(alice_chain["entries"], 11);
    hub.stop().await.unwrap();
}

async fn signatures_verify_webcrypto_keys(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    hub.get("/api/v1/me", &carol).await;
    let doc = upload(&hub, &alice, "SAFE", pdf(4096)).await;
    let (id, sum) = (
        doc["id"].as_str().unwrap().to_owned(),
        doc["checksum_sha256"].as_str().unwrap().to_owned(),
    );
    // Keys first (the message a signer signs names the request, known once it is made).
    let out = run_node("webcrypto-sign.mjs", &[("KEYS", "3".into())]).await;
    let signed: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    // bob registers key 0 as a JWK; carol registers key 1 as an SPKI PEM.
    let (status, bob_key) = hub
        .post(
            "/api/v1/keys",
            &bob,
            json!({"jwk": signed["keys"][0]["jwk"]}),
        )
        .await;
    assert_eq!(status, 201, "{bob_key}");
    assert_eq!(bob_key["fingerprint"].as_str().unwrap().len(), 64);
    let (status, carol_key) = hub
        .post(
            "/api/v1/keys",
            &carol,
            json!({"spki_pem": signed["keys"][1]["spki_pem"]}),
        )
        .await;
    assert_eq!(status, 201, "{carol_key}");
    assert_eq!(
        hub.post(
            "/api/v1/keys",
            &bob,
            json!({"jwk": signed["keys"][0]["jwk"]})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        hub.post("/api/v1/keys", &bob, json!({"jwk": {"kty": "RSA"}}))
            .await
            .0,
        400
    );
    assert_eq!(
        hub.get("/api/v1/keys", &bob).await.1["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Carol's key is hers: bob cannot register it too.
    let (status, err) = hub
        .post(
            "/api/v1/keys",
            &bob,
            json!({"spki_pem": signed["keys"][1]["spki_pem"]}),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    let (_, bob_second) = hub
        .post(
            "/api/v1/keys",
            &bob,
            json!({"spki_pem": signed["keys"][2]["spki_pem"]}),
        )
        .await;

    // Only a signer holding can_sign (or the owner) may be asked.
    let request = |signer: &str| {
        let body = json!({"document_id": id, "signer_id": signer});
        let (hub, alice) = (&hub, &alice);
        async move { hub.post("/api/v1/signatures", alice, body).await }
    };
    assert_eq!(request("bob").await.0, 403);
    hub.post(
        &format!("/api/v1/documents/{id}/share"),
        &alice,
        json!({"to_user_id": "bob", "can_sign": true}),
    )
    .await;
    let mut live = Sio::connect(hub.addr, &bob).await;
    let (status, req) = request("bob").await;
    assert_eq!(status, 201, "{req}");
    let req_id = req["id"].as_str().unwrap();
    let message = format!("hub-signature:v2:{id}:{sum}:{req_id}:bob");
    assert_eq!(
        (req["status"].clone(), req["message"].clone()),
        (json!("REQUESTED"), json!(message))
    );
    // The same keys sign the request's message, a tampered one, and the v1 message (which
    // named neither the request nor the signer, and is no longer accepted for new requests).
    let tampered = format!("hub-signature:v2:{id}:{}:{req_id}:bob", "0".repeat(64));
    let v1 = format!("hub-signature:v1:{id}:{sum}");
    let private: Vec<Value> = signed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["private"].clone())
        .collect();
    let out = run_node(
        "webcrypto-sign.mjs",
        &[
            ("PRIVATE", json!(private).to_string()),
            ("MESSAGES", json!([message, tampered, v1]).to_string()),
        ],
    )
    .await;
    let signed: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let told = live
        .event_where("notification", |n| n["kind"] == "signature_requested")
        .await;
    assert_eq!(told["data"]["document_id"], id);
    assert_eq!(
        hub.post(
            "/api/v1/signatures",
            &bob,
            json!({"document_id": id, "signer_id": "bob"})
        )
        .await
        .0,
        403
    );
    let sign = format!("/api/v1/signatures/{}/sign", req["id"].as_str().unwrap());
    let sig = |k: usize, m: usize| signed["signatures"][k][m].as_str().unwrap().to_owned();
    for (who, key, signature, status, field) in [
        (&carol, carol_key["id"].clone(), sig(1, 0), 404, ""), // not carol's request
        (&bob, carol_key["id"].clone(), sig(1, 0), 400, "key_id"), // another user's key
        (&bob, bob_key["id"].clone(), sig(1, 0), 400, "signature"), // signed with the wrong key
        (&bob, bob_key["id"].clone(), sig(0, 1), 400, "signature"), // a tampered message
        (&bob, bob_key["id"].clone(), sig(0, 2), 400, "signature"), // the v1 message
        (&bob, bob_second["id"].clone(), sig(0, 0), 400, "signature"), // bob's other key
        (
            &bob,
            bob_key["id"].clone(),
            "@@".to_owned(),
            400,
            "signature",
        ),
    ] {
        let (got, err) = hub
            .post(&sign, who, json!({"key_id": key, "signature": signature}))
            .await;
        assert_eq!(got, status, "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().starts_with(field),
            "{err}"
        );
    }
    let (status, done) = hub
        .post(
            &sign,
            &bob,
            json!({"key_id": bob_key["id"], "signature": sig(0, 0)}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["status"].clone(), done["key_fingerprint"].clone()),
        (json!("SIGNED"), bob_key["fingerprint"].clone())
    );
    assert!(done["signed_at"].is_string());
    assert_eq!(
        hub.post(
            &sign,
            &bob,
            json!({"key_id": bob_key["id"], "signature": sig(0, 0)})
        )
        .await
        .0,
        409
    );
    let (_, notes) = hub.get("/api/v1/notifications", &alice).await;
    assert_eq!(notes["notifications"][0]["kind"], "document_signed");
    let (_, list) = hub
        .get(&format!("/api/v1/documents/{id}/signatures"), &bob)
        .await;
    assert_eq!(list["signatures"][0]["status"], "SIGNED");

    // A document whose stored content changed is refused, even with a good signature.
    let (_, again) = request("bob").await;
    let stored = hub.db.dir().join("files").join("files").join(&id);
    let mut damaged = std::fs::read(&stored).unwrap();
    damaged[100] ^= 1;
    std::fs::write(&stored, damaged).unwrap();
    let (status, err) = hub
        .post(
            &format!("/api/v1/signatures/{}/sign", again["id"].as_str().unwrap()),
            &bob,
            json!({"key_id": bob_key["id"], "signature": sig(0, 0)}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (409, json!("conflict")),
        "{err}"
    );
    // Removing a key keeps what it signed; it cannot sign again.
    assert_eq!(
        hub.delete(
            &format!("/api/v1/keys/{}", bob_key["id"].as_str().unwrap()),
            &bob
        )
        .await
        .0,
        204
    );
    assert_eq!(
        hub.delete(
            &format!("/api/v1/keys/{}", bob_key["id"].as_str().unwrap()),
            &bob
        )
        .await
        .0,
        404
    );
    assert_eq!(
        hub.get(&format!("/api/v1/documents/{id}/signatures"), &alice)
            .await
            .1["signatures"][0]["status"],
        "SIGNED"
    );
    hub.stop().await.unwrap();
}

/// B, holding a `can_sign` share of a document A signed, cannot pass A's signature off as
/// hers: A's public key cannot be registered again by anyone else, and the message A signed
/// names A's request and A, so it verifies for no request of B's under any key.
async fn a_signature_is_bound_to_its_request_and_signer(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (alice, bob) = (user("alice"), user("bob"));
    hub.get("/api/v1/me", &bob).await;
    let doc = upload(&hub, &alice, "CONTRACT", pdf(2048)).await;
    let id = doc["id"].as_str().unwrap().to_owned();
    let keys: Value = serde_json::from_str(
        run_node("webcrypto-sign.mjs", &[("KEYS", "2".into())])
            .await
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let (a_pub, b_pub) = (
        keys["keys"][0]["jwk"].clone(),
        keys["keys"][1]["jwk"].clone(),
    );
    let (status, a_key) = hub
        .post("/api/v1/keys", &alice, json!({ "jwk": a_pub }))
        .await;
    assert_eq!(status, 201, "{a_key}");
    let (_, a_req) = hub
        .post(
            "/api/v1/signatures",
            &alice,
            json!({"document_id": id, "signer_id": "alice"}),
        )
        .await;
    let a_message = a_req["message"].as_str().unwrap().to_owned();
    let signed: Value = serde_json::from_str(
        run_node(
            "webcrypto-sign.mjs",
            &[
                ("PRIVATE", json!([keys["keys"][0]["private"]]).to_string()),
                ("MESSAGES", json!([a_message]).to_string()),
            ],
        )
        .await
        .lines()
        .last()
        .unwrap(),
    )
    .unwrap();
    let a_signature = signed["signatures"][0][0].as_str().unwrap().to_owned();
    let (status, done) = hub
        .post(
            &format!("/api/v1/signatures/{}/sign", a_req["id"].as_str().unwrap()),
            &alice,
            json!({"key_id": a_key["id"], "signature": a_signature}),
        )
        .await;
    assert_eq!(
        (status, done["status"].clone()),
        (200, json!("SIGNED")),
        "{done}"
    );

    // Bob may sign, and sees Alice's signature and its message.
    hub.post(
        &format!("/api/v1/documents/{id}/share"),
        &alice,
        json!({"to_user_id": "bob", "can_sign": true}),
    )
    .await;
    let (_, b_req) = hub
        .post(
            "/api/v1/signatures",
            &alice,
            json!({"document_id": id, "signer_id": "bob"}),
        )
        .await;
    assert_ne!(b_req["message"], a_req["message"]);
    // Alice's public key is hers: registering it as Bob's is refused, in either form.
    let (status, err) = hub
        .post("/api/v1/keys", &bob, json!({ "jwk": a_pub }))
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another user"),
        "{err}"
    );
    let (status, _) = hub
        .post(
            "/api/v1/keys",
            &bob,
            json!({"spki_pem": keys["keys"][0]["spki_pem"]}),
        )
        .await;
    assert_eq!(status, 409);
    // Replayed under Bob's own key, or Alice's key id, Alice's signature does not verify.
    let (status, b_key) = hub
        .post("/api/v1/keys", &bob, json!({ "jwk": b_pub }))
        .await;
    assert_eq!(status, 201);
    let sign = format!("/api/v1/signatures/{}/sign", b_req["id"].as_str().unwrap());
    for key in [&b_key["id"], &a_key["id"]] {
        let (status, err) = hub
            .post(
                &sign,
                &bob,
                json!({"key_id": key, "signature": a_signature}),
            )
            .await;
        assert_eq!(status, 400, "{err}");
    }
    let (_, list) = hub
        .get(&format!("/api/v1/documents/{id}/signatures"), &bob)
        .await;
    let statuses: Vec<&str> = list["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["SIGNED", "REQUESTED"]);
    hub.stop().await.unwrap();
}

/// A refused upload's answer reaches Node's `fetch`, which sends the whole body before it
/// reads: the hub reads and drops the rest of the body before it answers (it closed at once
/// before, and `fetch` saw EPIPE or a reset instead of the status).
async fn refused_uploads_reach_node_fetch_with_their_status(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.files.max_bytes = 8 * 1024 * 1024).await;
    // Bodies larger than what loopback sockets buffer, so an early close meets a client that
    // is still sending.
    let cases = json!([
        {"name": "too_large", "size": 12 * 1024 * 1024, "type": "application/pdf"},
        {"name": "type", "size": 4 * 1024 * 1024, "type": "application/x-msdownload"},
        {"name": "field", "size": 4 * 1024 * 1024, "type": "application/pdf", "field": "evil"},
        {"name": "anonymous", "size": 4 * 1024 * 1024, "type": "application/pdf", "anonymous": true},
    ]);
    let out = run_node(
        "upload-refused.mjs",
        &[
            ("BASE", hub.url("")),
            ("TOKEN", user("alice")),
            ("CASES", cases.to_string()),
            ("TRIES", "10".into()),
        ],
    )
    .await;
    let got: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for (case, status) in [
        ("too_large", 413),
        ("type", 415),
        ("field", 400),
        ("anonymous", 401),
    ] {
        assert_eq!(got[case], json!(vec![status; 10]), "{case}: {got}");
    }
    hub.stop().await.unwrap();
}

/// A text upload is checked to its last byte (binary after the first 512 bytes is refused);
/// names lose bidirectional and invisible characters; a range of a file no check found
/// corrupted is read alone (a byte damaged elsewhere does not stop it), and once a whole
/// download finds the damage, the file is refused whole and in part.
async fn text_is_checked_whole_names_lose_bidi_and_ranges_read_only_the_range(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    hub.get("/api/v1/me", &admin()).await; // the admin is known as one
    let mut ops = Sio::connect(hub.addr, &admin()).await;
    let mut text = "line of text\n".repeat(60).into_bytes();
    assert!(text.len() > 512);
    let good = upload_form(
        &hub,
        &alice,
        form("Notes", text.clone(), "notes.txt", "text/plain"),
    )
    .await;
    assert_eq!(good.0, 201, "{}", good.1);
    text.extend_from_slice(&[0xFF, 0x00, 0x13, 0x37]);
    let (status, err) = upload_form(
        &hub,
        &alice,
        form("Sneaky", text, "notes.txt", "text/plain"),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (415, json!("invalid")),
        "{err}"
    );
    // A character split at the end of the file is not text either.
    let mut cut = "é".repeat(400).into_bytes();
    cut.pop();
    assert_eq!(
        upload_form(&hub, &alice, form("Cut", cut, "c.txt", "text/plain"))
            .await
            .0,
        415
    );

    let (status, doc) = upload_form(
        &hub,
        &alice,
        form(
            "Invoice",
            pdf(4096),
            "invoice\u{202E}fdp.exe",
            "application/pdf",
        ),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["file_name"], "invoicefdp.exe");
    let id = doc["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/documents/{id}/content");
    let resp = download(&hub, Some(&alice), &path, None).await;
    let h = resp.headers().clone();
    // Read to the end: the download verifies the file as it goes, before it is damaged below.
    assert_eq!(resp.bytes().await.unwrap().len(), 4096);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );

    // Damage the last byte behind the hub's back: the first byte is still served alone.
    let stored = hub.db.dir().join("files").join("files").join(&id);
    let mut damaged = std::fs::read(&stored).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::write(&stored, &damaged).unwrap();
    for _ in 0..20 {
        let part = fetch(&hub, &alice, &path, Some("bytes=0-0")).await;
        assert_eq!(part, Ok(b"%".to_vec()));
    }
    assert!(
        fetch(&hub, &alice, &path, None).await.is_err(),
        "served whole"
    );
    let told = ops
        .event_where("notification", |n| n["kind"] == "file_corrupted")
        .await;
    assert_eq!(told["data"]["document_id"], id);
    let part = fetch(&hub, &alice, &path, Some("bytes=0-0")).await;
    assert_eq!(part, Err("409 Conflict".to_owned()));
    hub.stop().await.unwrap();
}
