//! Domain writes under bursts, on both backends, with the database pools at their smallest (2
//! connections to read, 1 to write): a burst for one user waits for that user's turn in the
//! hub (not on the database while holding connections), a burst over many users shares the
//! writers, every event is applied exactly once (duplicates mixed in answer as replays), the
//! balance is the sum of the ledger and the chains hold, and a bystander's reads go on during
//! the burst. Past `HUB_USER_QUEUE`, a request is refused with `busy` and nothing of it is
//! applied; retried later, it goes through.

use crate::common;

use common::{Backend, TestDb, TestHub};
use futures_util::future::join_all;
use hub_protocol::AccountRole;
use serde_json::{Value, json};

on_both_backends!(
    a_burst_for_one_user_and_over_many_users_is_applied_exactly_once_on_a_tiny_pool,
    past_the_user_queue_a_request_is_refused_busy_and_applies_nothing,
    two_nodes_crediting_one_wallet_at_once_keep_it_right,
    a_hub_killed_mid_burst_keeps_every_acknowledged_event_once_and_nothing_half_done,
    database_failures_mid_batch_apply_nothing_half_and_every_refused_event_retries,
    text_that_could_end_a_quoted_literal_is_written_as_it_was_sent,
);

async fn small_pools(backend: Backend, queue: usize) -> TestHub {
    TestHub::start_with(backend, move |c| {
        common::lax_buz(c);
        c.db_max_connections = 2;
        c.db_write_connections = 1;
        c.writes.user_queue = queue;
    })
    .await
}

fn task(id: &str, user: &str) -> Value {
    json!({"task_id": id, "user_id": user, "tier": "C", "quality": 1.0, "reviewer_trust": 100})
}

/// A task of `venture`: its credit also reads the venture, inside the event's transaction.
fn venture_task(id: &str, user: &str, venture: &str) -> Value {
    let mut t = task(id, user);
    t["venture_id"] = json!(venture);
    t
}

/// Posts every event at once; the answers in order.
async fn burst_answers(hub: &TestHub, events: &[Value]) -> Vec<(u16, Value)> {
    let system = hub.token_with("platform", None, AccountRole::System);
    let sends = events.iter().map(|e| {
        let (hub, system) = (hub, &system);
        async move {
            hub.post("/api/v1/events/task/accepted", system, e.clone())
                .await
        }
    });
    join_all(sends).await
}

/// Posts every event at once; the statuses in order.
async fn burst(hub: &TestHub, events: &[Value]) -> Vec<u16> {
    burst_answers(hub, events)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

async fn wallet(hub: &TestHub, user: &str) -> Value {
    let (status, w) = hub.get("/api/v1/wallet/me", &hub.token(user)).await;
    assert_eq!(status, 200, "{w}");
    w
}

async fn a_burst_for_one_user_and_over_many_users_is_applied_exactly_once_on_a_tiny_pool(
    backend: Backend,
) {
    let hub = small_pools(backend, 4096).await;
    let venture = hub.venture("alice", "Acme").await;
    // 200 events for one user at once, 40 of them duplicates of others (same task id).
    let events: Vec<Value> = (0..200)
        .map(|i| venture_task(&format!("hot-{}", i % 160), "hot", &venture))
        .collect();
    // A bystander reads during the burst.
    let bystander = hub.token("reader");
    let reads = async {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(hub.get("/api/v1/me", &bystander).await.0);
        }
        statuses
    };
    let (statuses, reads) = tokio::join!(burst(&hub, &events), reads);
    assert_eq!(reads, vec![200; 20], "the bystander's reads");
    let created = statuses.iter().filter(|s| **s == 201).count();
    let replays = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!((created, replays), (160, 40), "{statuses:?}");
    // C at quality 1.0 and trust 100: 50 BUZ each, once per task.
    let w = wallet(&hub, "hot").await;
    assert_eq!(w["buz_balance"], 160 * 50, "{w}");
    let (_, verify) = hub.get("/api/v1/wallet/me/verify", &hub.token("hot")).await;
    assert_eq!(
        (verify["ok"].clone(), verify["entries"].clone()),
        (json!(true), json!(160)),
        "{verify}"
    );

    // 200 events over 200 users at once.
    let events: Vec<Value> = (0..200)
        .map(|i| venture_task(&format!("spread-{i}"), &format!("u{i}"), &venture))
        .collect();
    let statuses = burst(&hub, &events).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    for i in [0, 77, 199] {
        assert_eq!(wallet(&hub, &format!("u{i}")).await["buz_balance"], 50);
    }
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin).await;
    assert_eq!(report["ok"], true, "every chain holds");
    hub.stop().await.unwrap();
}

async fn past_the_user_queue_a_request_is_refused_busy_and_applies_nothing(backend: Backend) {
    let hub = small_pools(backend, 4).await;
    let events: Vec<Value> = (0..60).map(|i| task(&format!("b-{i}"), "busy")).collect();
    let answers = burst_answers(&hub, &events).await;
    for (status, body) in &answers {
        if *status == 429 {
            assert_eq!(body["error"]["code"], "busy", "{body}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains("busy"),
                "{body}"
            );
        }
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused: Vec<usize> = statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == 429)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(created + refused.len(), 60, "{statuses:?}");
    assert!(
        !refused.is_empty(),
        "60 at once for a queue of 4: {statuses:?}"
    );
    assert!(created >= 4, "{statuses:?}");
    // Exactly what was acknowledged is applied.
    assert_eq!(
        wallet(&hub, "busy").await["buz_balance"],
        created as i64 * 50
    );
    // The refusal says so, and the refused ones go through when retried one at a time.
    let system = hub.token_with("platform", None, AccountRole::System);
    let (status, err) = hub
        .post(
            "/api/v1/events/task/accepted",
            &system,
            events[refused[0]].clone(),
        )
        .await;
    assert_eq!(status, 201, "a retry alone passes: {err}");
    for i in &refused[1..] {
        let (status, body) = hub
            .post("/api/v1/events/task/accepted", &system, events[*i].clone())
            .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(wallet(&hub, "busy").await["buz_balance"], 60 * 50);
    hub.stop().await.unwrap();
}

/// Two nodes on one database credit one wallet at once: the turns are each node's, and the
/// database orders the two nodes' transactions on the user's rows. Every event applies once
/// (duplicates sent to both nodes answer as replays), the balance is the sum of the ledger and
/// the chain holds.
async fn two_nodes_crediting_one_wallet_at_once_keep_it_right(backend: Backend) {
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let a = TestHub::start_on(db, common::lax_buz).await;
    let b = TestHub::start_on(shared, common::lax_buz).await;
    // 100 tasks, each sent to both nodes at once.
    let events: Vec<Value> = (0..100)
        .map(|i| task(&format!("both-{i}"), "wally"))
        .collect();
    let (on_a, on_b) = tokio::join!(burst(&a, &events), burst(&b, &events));
    let statuses: Vec<u16> = on_a.into_iter().chain(on_b).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    let replays = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!((created, replays), (100, 100), "{statuses:?}");
    for hub in [&a, &b] {
        let w = wallet(hub, "wally").await;
        assert_eq!(w["buz_balance"], 100 * 50, "{w}");
        let (_, verify) = hub
            .get("/api/v1/wallet/me/verify", &hub.token("wally"))
            .await;
        assert_eq!(
            (verify["ok"].clone(), verify["entries"].clone()),
            (json!(true), json!(100)),
            "{verify}"
        );
    }
    common::assert_log_holds_every_entry(&a.db.url).await;
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// The hub binary on `db`, and the address it listens on.
async fn spawn_hub(db: &TestDb, dir: &std::path::Path) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
        .env("DATABASE_URL", &db.url)
        .env("JWT_SECRET", common::SECRET)
        .env("DATA_DIR", dir)
        .env("HUB_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("HUB_REST_RATE_USER", "1000000/1s")
        .env("HUB_BUZ_REQUIRE_KYC", "false")
        .env("HUB_BUZ_MIN_REPUTATION", "0")
        .env("HUB_BUZ_MAX_CREDITS_PER_HOUR", "1000000")
        .env("HUB_BUZ_DAILY_CAP", "1000000000")
        .env_remove("REDIS_URL")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the hub");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(common::WAIT, async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the hub exited");
            if let Some(rest) = line.split("hub listening on http://").nth(1) {
                return rest.split(' ').next().unwrap().to_owned();
            }
        }
    })
    .await
    .expect("the hub did not start");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://{addr}"))
}

/// A hub killed (SIGKILL) in the middle of a burst for one user: every event it acknowledged
/// is stored once, nothing it did not store is half there (the balance is exactly the credits
/// stored, the chain holds), and every event is retried to completion on the restarted hub.
async fn a_hub_killed_mid_burst_keeps_every_acknowledged_event_once_and_nothing_half_done(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let system = common::lasting_token("platform", AccountRole::System);
    let http = common::http_client();
    let (mut child, base) = spawn_hub(&db, dir.path()).await;
    let events: Vec<Value> = (0..300).map(|i| task(&format!("k-{i}"), "kim")).collect();
    let post = |base: String, e: Value| {
        let (http, system) = (http.clone(), system.clone());
        async move {
            http.post(format!("{base}/api/v1/events/task/accepted"))
                .bearer_auth(&system)
                .json(&e)
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16())
        }
    };
    let sends: Vec<_> = events
        .iter()
        .map(|e| tokio::spawn(post(base.clone(), e.clone())))
        .collect();
    // Kill it once some have been acknowledged.
    let acked_before_kill = tokio::time::timeout(common::WAIT, async {
        loop {
            let (n,): (i64,) = {
                let mut conn = common::raw_db_url(&db.url).await;
                sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind = 'task.accepted'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            };
            if n >= 20 {
                return n;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("no event was stored");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let mut acknowledged = Vec::new();
    for (i, send) in sends.into_iter().enumerate() {
        if send.await.unwrap() == Some(201) {
            acknowledged.push(format!("k-{i}"));
        }
    }
    assert!(acked_before_kill >= 20);
    // What the database holds: every acknowledged event, once; a credit for each stored one.
    let (child2, base) = spawn_hub(&db, dir.path()).await;
    let mut conn = common::raw_db_url(&db.url).await;
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM events WHERE kind = 'task.accepted' AND user_id = 'kim'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let stored: std::collections::BTreeSet<String> = stored.into_iter().map(|(id,)| id).collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged {id} is not stored");
    }
    let token = common::lasting_token("kim", AccountRole::User);
    // A GET of one of kim's own resources, as JSON.
    let mine = |path: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            http.get(path)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let wallet_of = |base: String| mine(format!("{base}/api/v1/wallet/me"));
    assert_eq!(
        wallet_of(base.clone()).await["buz_balance"],
        stored.len() as i64 * 50
    );
    // Every event retried: the stored ones are replays, the others go through.
    for (i, e) in events.iter().enumerate() {
        let status = post(base.clone(), e.clone()).await;
        let expected = if stored.contains(&format!("k-{i}")) {
            200
        } else {
            201
        };
        assert_eq!(status, Some(expected), "k-{i}");
    }
    assert_eq!(wallet_of(base.clone()).await["buz_balance"], 300 * 50);
    let verify = mine(format!("{base}/api/v1/wallet/me/verify")).await;
    assert_eq!(
        (verify["ok"].clone(), verify["entries"].clone()),
        (json!(true), json!(300)),
        "{verify}"
    );
    common::assert_log_holds_every_entry(&db.url).await;
    drop(child2);
    db.drop_schema().await;
}

/// The store fails at random (5% at each point of a write where rows have already been
/// written: XP, stats, ledger, audit, notifications, savepoint release, commit) while bursts
/// of events are applied in batches. Every refusal is `unavailable` (503) and applies nothing
/// of its event; retried, every event is applied exactly once: the balance is the sum of
/// the ledger, each credit has exactly one notification, every chain holds, and the audit
/// log's Merkle tree holds every entry once (no leaf of a write taken back).
async fn database_failures_mid_batch_apply_nothing_half_and_every_refused_event_retries(
    backend: Backend,
) {
    let hub = TestHub::start_with(backend, |c| {
        common::lax_buz(c);
        c.db_fault_ppm = 50_000;
    })
    .await;
    let (users, each) = (20, 8);
    let mut pending: Vec<Value> = (0..users * each)
        .map(|i| task(&format!("f-{i}"), &format!("f{}", i % users)))
        .collect();
    let (mut created, mut refused, mut rounds) = (0, 0, 0);
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds <= 100, "{} events never went through", pending.len());
        let answers = burst_answers(&hub, &pending).await;
        let mut again = Vec::new();
        for (event, (status, body)) in pending.into_iter().zip(answers) {
            match status {
                201 => created += 1,
                503 => {
                    assert_eq!(body["error"]["code"], "unavailable", "{body}");
                    refused += 1;
                    again.push(event);
                }
                other => panic!("{other}: {body}"),
            }
        }
        pending = again;
    }
    assert!(refused > 0, "no failure was injected");
    // No replay: a refused event had left nothing behind.
    assert_eq!(created, users * each);
    for u in 0..users {
        let user = format!("f{u}");
        let token = hub.token(&user);
        assert_eq!(wallet(&hub, &user).await["buz_balance"], each as i64 * 50);
        let (_, verify) = hub.get("/api/v1/wallet/me/verify", &token).await;
        assert_eq!(
            (verify["ok"].clone(), verify["entries"].clone()),
            (json!(true), json!(each)),
            "{user}: {verify}"
        );
        let (status, notes) = hub.get("/api/v1/notifications?limit=100", &token).await;
        assert_eq!(status, 200, "{notes}");
        let credits = notes["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "buz_credited")
            .count();
        assert_eq!(credits, each, "{user}: one notification per credit");
    }
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (status, report) = hub.get("/api/debug/worm/integrity", &admin).await;
    assert_eq!(
        (status, report["ok"].clone()),
        (200, json!(true)),
        "{report}"
    );
    common::assert_log_holds_every_entry(&hub.db.url).await;
    hub.stop().await.unwrap();
}

/// A batch's rows reach Postgres inside the text of one message, as dollar-quoted literals:
/// whatever a note holds (quotes, backslashes, the quoting tags themselves, placeholders) is
/// stored as sent, in writes that share a batch.
async fn text_that_could_end_a_quoted_literal_is_written_as_it_was_sent(backend: Backend) {
    let hub = small_pools(backend, 4096).await;
    let statuses = burst(&hub, &[task("seed", "quill")]).await;
    assert_eq!(statuses, vec![201]);
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let notes = [
        "it's $j$ here",
        "$j$$j1$$j2$ and $$ too",
        r"back\slash \' and \\",
        "$1 $2 ::jsonb); DROP TABLE wallets; --",
        "\"quoted\" {\"json\": [1]} ünïcødé ✓",
    ];
    let sends = notes.iter().map(|note| {
        let (hub, admin) = (&hub, &admin);
        async move {
            hub.post(
                "/api/v1/wallets/quill/adjust",
                admin,
                json!({"amount": 1, "note": note}),
            )
            .await
        }
    });
    let answers = join_all(sends).await;
    for (status, entry) in &answers {
        assert_eq!(*status, 201, "{entry}");
    }
    let (_, page) = hub
        .get("/api/v1/wallet/me/ledger?limit=10", &hub.token("quill"))
        .await;
    let mut stored: Vec<String> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str().map(str::to_owned))
        .collect();
    stored.sort();
    // The ledger names the admin after the note.
    let mut sent: Vec<String> = notes.iter().map(|n| format!("{n} (by ops)")).collect();
    sent.sort();
    assert_eq!(stored, sent);
    assert_eq!(wallet(&hub, "quill").await["buz_balance"], 50 + 5);
    let (_, verify) = hub
        .get("/api/v1/wallet/me/verify", &hub.token("quill"))
        .await;
    assert_eq!(verify["ok"], true, "{verify}");
    hub.stop().await.unwrap();
}
