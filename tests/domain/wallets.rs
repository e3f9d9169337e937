//! Wallets on both backends, on the hub's manual clock: the issuance formula through real task
//! events, every gate and the daily cap with partial credit and withheld records, replays, the
//! hash-chained ledger (paging, verification, admin adjustments, the database refusing to
//! rewrite it, a row changed behind the hub's back found at its entry), and `wallet:updated`
//! reaching the owner on another node.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestDb, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(
    the_formula_table_holds_through_task_events,
    every_gate_withholds_with_its_reason_and_the_cap_credits_up_to_it,
    the_ledger_is_a_chain_the_database_will_not_rewrite,
    wallet_updates_reach_the_owner_on_another_node,
    balances_stop_at_two_to_the_53_and_credits_past_it_are_withheld,
    a_development_sample_task_credits_a_new_user_past_the_default_gates,
);

const HOUR: Duration = Duration::from_secs(3600);

fn admin() -> String {
    token("ops", AccountRole::Admin)
}

use common::lax_buz as lax;

async fn task(hub: &TestHub, id: &str, user: &str, tier: &str, quality: f64, trust: f64) -> Value {
    let (status, answer) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token("platform", AccountRole::System),
            json!({"task_id": id, "user_id": user, "tier": tier, "quality": quality, "reviewer_trust": trust}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    answer["buz"].clone()
}

async fn event(hub: &TestHub, path: &str, body: Value) {
    let (status, answer) = hub
        .post(
            &format!("/api/v1/events/{path}"),
            &token("platform", AccountRole::System),
            body,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

async fn wallet(hub: &TestHub, user: &str) -> Value {
    let (status, w) = hub
        .get("/api/v1/wallet/me", &token(user, AccountRole::User))
        .await;
    assert_eq!(status, 200, "{w}");
    w
}

async fn the_formula_table_holds_through_task_events(backend: Backend) {
    let hub = TestHub::start_with(backend, lax).await;
    // Every tier at quality 0.6, 1.0, 1.4 and trust 25, 81, 100, 144, by hand.
    let table: [(&str, [i64; 12]); 4] = [
        (
            "S",
            [168, 216, 240, 264, 280, 360, 400, 440, 392, 504, 560, 616],
        ),
        (
            "A",
            [63, 81, 90, 99, 105, 135, 150, 165, 147, 189, 210, 231],
        ),
        ("B", [34, 43, 48, 53, 56, 72, 80, 88, 78, 101, 112, 123]),
        ("C", [21, 27, 30, 33, 35, 45, 50, 55, 49, 63, 70, 77]),
    ];
    let mut total = 0;
    for (tier, values) in table {
        let mut i = 0;
        for quality in [0.6, 1.0, 1.4] {
            for trust in [25.0, 81.0, 100.0, 144.0] {
                let buz = task(&hub, &format!("{tier}-{i}"), "fay", tier, quality, trust).await;
                assert_eq!(
                    buz,
                    json!({"computed": values[i], "credited": values[i], "withheld": 0, "reason": null}),
                    "{tier} {quality} {trust}"
                );
                total += values[i];
                i += 1;
            }
        }
    }
    let w = wallet(&hub, "fay").await;
    assert_eq!(
        (w["buz_balance"].clone(), w["available"].clone()),
        (json!(total), json!(total))
    );
    // One credit per task ever: a replay answers the same and credits nothing.
    let (status, again) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token("platform", AccountRole::System),
            json!({"task_id": "S-0", "user_id": "fay", "tier": "S", "quality": 0.6, "reviewer_trust": 25}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["buz"]["credited"], 168);
    assert_eq!(wallet(&hub, "fay").await["buz_balance"], total);
    hub.stop().await.unwrap();
}

async fn every_gate_withholds_with_its_reason_and_the_cap_credits_up_to_it(backend: Backend) {
    let clock = ManualClock::new(today_at(3));
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    let gus = token("gus", AccountRole::User);
    let mut live = Sio::connect(hub.addr, &gus).await;
    // KYC first: a user who has not passed it is credited nothing.
    let out = task(&hub, "k1", "gus", "S", 1.0, 100.0).await;
    assert_eq!(
        out,
        json!({"computed": 400, "credited": 0, "withheld": 400, "reason": "kyc"})
    );
    event(&hub, "kyc", json!({"user_id": "gus", "status": "PASSED"})).await;
    // Then reputation: 60 needed; gus has 0 until days fold.
    let out = task(&hub, "r1", "gus", "S", 1.0, 100.0).await;
    assert_eq!(out["reason"], "reputation");
    // Two days of 50 (capped): 50.000, then 49.750 + 50 = 99.750.
    for day in 0..2 {
        for i in 0..5 {
            task(&hub, &format!("xp{day}-{i}"), "gus", "S", 1.0, 100.0).await;
        }
        clock.advance(Duration::from_secs(86_400));
        hub.post("/api/debug/jobs/reputation-daily/run", &admin(), json!({}))
            .await;
    }
    let (_, p) = hub.get("/api/v1/profiles/me", &gus).await;
    assert_eq!(p["rep_score"], 99.75);
    // Credited now, and told live.
    let out = task(&hub, "ok1", "gus", "S", 1.0, 100.0).await;
    assert_eq!(
        out,
        json!({"computed": 400, "credited": 400, "withheld": 0, "reason": null})
    );
    let update = live.event("wallet:updated").await;
    assert_eq!(
        update,
        json!({"buz_balance": 400, "pending_lock": 0, "available": 400})
    );
    let note = live
        .event_where("notification", |n| n["kind"] == "buz_credited")
        .await;
    assert_eq!(note["data"]["credited"], 400);
    // A non-compliant latest device report withholds; a compliant later one lifts it.
    event(
        &hub,
        "device",
        json!({"user_id": "gus", "date": "2026-03-01", "compliant": false}),
    )
    .await;
    assert_eq!(
        task(&hub, "d1", "gus", "C", 1.0, 100.0).await["reason"],
        "device"
    );
    event(
        &hub,
        "device",
        json!({"user_id": "gus", "date": "2026-02-01", "compliant": true}),
    )
    .await;
    assert_eq!(
        task(&hub, "d2", "gus", "C", 1.0, 100.0).await["reason"],
        "device",
        "an older report does not count"
    );
    event(
        &hub,
        "device",
        json!({"user_id": "gus", "date": "2026-03-02", "compliant": true}),
    )
    .await;
    assert_eq!(
        task(&hub, "d3", "gus", "C", 1.0, 100.0).await["credited"],
        50
    );
    // The daily cap, 2000: 400 + 50 so far today; three more S tasks make 1650, the next crosses
    // the cap and is credited up to it (350 of 400), the one after gets nothing.
    for i in 0..3 {
        assert_eq!(
            task(&hub, &format!("c{i}"), "gus", "S", 1.0, 100.0).await["credited"],
            400
        );
    }
    assert_eq!(
        task(&hub, "c3", "gus", "S", 1.0, 100.0).await,
        json!({"computed": 400, "credited": 350, "withheld": 50, "reason": "daily_cap"})
    );
    assert_eq!(
        task(&hub, "c4", "gus", "C", 1.0, 100.0).await,
        json!({"computed": 50, "credited": 0, "withheld": 50, "reason": "daily_cap"})
    );
    assert_eq!(wallet(&hub, "gus").await["buz_balance"], 2000);
    // Velocity: 20 credits an hour. The next UTC day (a fresh hour and a fresh cap), 20 pass,
    // the 21st is withheld, and an hour later credits flow again.
    clock.advance(Duration::from_secs(86_400));
    for i in 0..20 {
        assert_eq!(
            task(&hub, &format!("v{i}"), "gus", "C", 0.6, 25.0).await["credited"],
            21,
            "{i}"
        );
    }
    assert_eq!(
        task(&hub, "v20", "gus", "C", 0.6, 25.0).await["reason"],
        "velocity"
    );
    clock.advance(HOUR);
    assert_eq!(
        task(&hub, "v21", "gus", "C", 0.6, 25.0).await["credited"],
        21
    );
    // Nothing withheld was dropped: each is listed with its reason, newest first.
    let (status, list) = hub.get("/api/v1/wallet/me/withheld?limit=100", &gus).await;
    assert_eq!(status, 200);
    let reasons: Vec<(&str, i64)> = list["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["reason"].as_str().unwrap(), w["amount"].as_i64().unwrap()))
        .collect();
    // kyc; reputation for r1 and the ten tasks of days 0 and 1 (50 < 60 on day 1); device
    // twice; the cap twice; velocity once.
    let mut expected = vec![("kyc", 400)];
    expected.extend(std::iter::repeat_n(("reputation", 400), 11));
    expected.extend([
        ("device", 50),
        ("device", 50),
        ("daily_cap", 50),
        ("daily_cap", 50),
        ("velocity", 21),
    ]);
    expected.reverse();
    assert_eq!(reasons, expected);
    let (_, page) = hub.get("/api/v1/wallet/me/withheld?limit=2", &gus).await;
    assert_eq!(page["has_more"], true);
    hub.stop().await.unwrap();
}

async fn the_ledger_is_a_chain_the_database_will_not_rewrite(backend: Backend) {
    let hub = TestHub::start_with(backend, lax).await;
    for i in 0..5 {
        task(&hub, &format!("t{i}"), "hal", "A", 1.0, 100.0).await; // 150 each
    }
    let (status, entry) = hub
        .post(
            "/api/v1/wallets/hal/adjust",
            &admin(),
            json!({"amount": -30, "note": "duplicate payout of t3"}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    assert_eq!(
        (entry["type"].clone(), entry["balance_after"].clone()),
        (json!("ADJUST"), json!(720))
    );
    for (body, status) in [
        (json!({"amount": -10_000, "note": "too much"}), 409),
        (json!({"amount": 10, "note": ""}), 400),
        (json!({"amount": 0, "note": "nothing"}), 400),
    ] {
        assert_eq!(
            hub.post("/api/v1/wallets/hal/adjust", &admin(), body.clone())
                .await
                .0,
            status,
            "{body}"
        );
    }
    let hal = token("hal", AccountRole::User);
    assert_eq!(
        hub.post(
            "/api/v1/wallets/hal/adjust",
            &hal,
            json!({"amount": 5, "note": "me"})
        )
        .await
        .0,
        403
    );
    let (_, seen) = hub.get("/api/v1/wallets/hal", &admin()).await;
    assert_eq!(seen["buz_balance"], 720);
    assert_eq!(hub.get("/api/v1/wallets/hal", &hal).await.0, 403);
    assert_eq!(hub.get("/api/v1/wallets/nobody", &admin()).await.0, 404);
    // The ledger, newest first, paged by seq; each entry links to the one before.
    let (_, page) = hub.get("/api/v1/wallet/me/ledger?limit=4", &hal).await;
    let seqs: Vec<i64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [6, 5, 4, 3]);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["entries"][0]["prev_hash"], page["entries"][1]["hash"]);
    let (_, rest) = hub.get("/api/v1/wallet/me/ledger?before=3", &hal).await;
    assert_eq!(rest["entries"].as_array().unwrap().len(), 2);
    assert_eq!(rest["entries"][1]["prev_hash"], Value::Null);
    assert_eq!(rest["has_more"], false);
    // The first entry's hash, recomputed as the README says.
    let first = &rest["entries"][1];
    let created = chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let payload = format!(
        "{}:150:EARN:{created}:1:150:[\"t0\",null,null,null]",
        first["wallet_id"].as_str().unwrap()
    );
    use sha2::Digest;
    let digest = sha2::Sha256::digest(payload.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(first["hash"], hex);
    let (_, verify) = hub.get("/api/v1/wallet/me/verify", &hal).await;
    assert_eq!(
        verify,
        json!({"ok": true, "entries": 6, "balance_matches": true, "first_broken": null})
    );
    // The database refuses to rewrite the ledger.
    let mut conn = common::raw_db(&hub).await;
    for sql in [
        "UPDATE wallet_ledgers SET amount = 1500 WHERE seq = 2",
        "DELETE FROM wallet_ledgers WHERE seq = 6",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
    // Lifted behind the hub's back, an edit is found at its entry.
    common::edit_append_only(
        &hub,
        "wallet_ledgers",
        "UPDATE wallet_ledgers SET amount = 1500 WHERE seq = 2",
    )
    .await;
    let (_, verify) = hub.get("/api/v1/wallet/me/verify", &hal).await;
    assert_eq!(verify["ok"], false);
    assert_eq!(
        verify["balance_matches"], false,
        "the amounts no longer add up"
    );
    assert_eq!(verify["first_broken"]["seq"], 2);
    assert_eq!(
        verify["first_broken"]["reason"],
        "hash does not match the entry"
    );
    // The audit integrity check (and its job) sees the wallet too.
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    assert_eq!(report["ok"], false);
    let scope = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == format!("wallet:{}", seen["id"].as_str().unwrap()))
        .cloned()
        .unwrap();
    assert_eq!(scope["first_broken"]["seq"], 2);
    assert_eq!(hub.get("/api/health", &hal).await.1["status"], "degraded");
    hub.stop().await.unwrap();
}

async fn wallet_updates_reach_the_owner_on_another_node(backend: Backend) {
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let (a, b) = match backend {
        Backend::Sqlite => {
            // Two nodes on one in-process bus.
            let bus = hub::bus::LocalBus::new();
            let runtime = |bus: hub::bus::LocalBus| hub::Runtime {
                bus: Some(Arc::new(bus) as Arc<dyn hub::bus::Bus>),
                ..hub::Runtime::default()
            };
            (
                TestHub::start_in(db, runtime(bus.node()), lax).await,
                TestHub::start_in(shared, runtime(bus.node()), lax).await,
            )
        }
        Backend::Postgres => {
            let prefix = common::redis::prefix();
            let over_redis = |c: &mut hub::Config, prefix: &str| {
                lax(c);
                c.redis_url = Some(common::redis::redis_url());
                c.redis_prefix = prefix.to_owned();
            };
            let p2 = prefix.clone();
            (
                TestHub::start_on(db, |c| over_redis(c, &prefix)).await,
                TestHub::start_on(shared, move |c| over_redis(c, &p2)).await,
            )
        }
    };
    let mut on_b = Sio::connect(b.addr, &token("ivy", AccountRole::User)).await;
    // Each node announces itself; a credit posted to node a reaches ivy's socket on node b.
    task(&a, "x1", "ivy", "B", 1.0, 100.0).await;
    let update = on_b.event("wallet:updated").await;
    assert_eq!(
        update,
        json!({"buz_balance": 80, "pending_lock": 0, "available": 80})
    );
    let note = on_b
        .event_where("notification", |n| n["kind"] == "buz_credited")
        .await;
    assert_eq!(note["data"]["buz_balance"], 80);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// A wallet holds at most 2^53 - 1 BUZ (what JavaScript reads exactly): an adjustment past it
/// is refused naming the bound (400 for the amount, 409 for the balance), a task credit past
/// it is stored and withheld (`balance_limit`) so its retry is a plain replay, and the
/// ledger still verifies.
async fn balances_stop_at_two_to_the_53_and_credits_past_it_are_withheld(backend: Backend) {
    let hub = TestHub::start_with(backend, lax).await;
    const MAX: i64 = 9_007_199_254_740_991;
    let adjust = |amount: Value| {
        let hub = &hub;
        async move {
            hub.post(
                "/api/v1/wallets/ivy/adjust",
                &admin(),
                json!({"amount": amount, "note": "bounds"}),
            )
            .await
        }
    };
    for (amount, status, says) in [
        (json!(i64::MAX), 400, "9007199254740991"),
        (json!(i64::MIN), 400, "9007199254740991"),
        (json!(MAX + 1), 400, "9007199254740991"),
    ] {
        let (got, err) = adjust(amount.clone()).await;
        assert_eq!(got, status, "{amount}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(says),
            "{err}"
        );
    }
    let (status, entry) = adjust(json!(MAX - 100)).await;
    assert_eq!(
        (status, entry["balance_after"].clone()),
        (201, json!(MAX - 100))
    );
    let (status, err) = adjust(json!(101)).await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("9007199254740991"),
        "{err}"
    );
    // 150 BUZ: 100 fit, 50 are withheld at the bound; the event stands and replays.
    let buz = task(&hub, "t-max", "ivy", "A", 1.0, 100.0).await;
    assert_eq!(
        buz,
        json!({"computed": 150, "credited": 100, "withheld": 50, "reason": "balance_limit"})
    );
    let buz = task(&hub, "t-past", "ivy", "A", 1.0, 100.0).await;
    assert_eq!(
        (buz["credited"].clone(), buz["withheld"].clone()),
        (json!(0), json!(150))
    );
    let (status, again) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token("platform", AccountRole::System),
            json!({"task_id": "t-past", "user_id": "ivy", "tier": "A", "quality": 1.0, "reviewer_trust": 100}),
        )
        .await;
    assert_eq!((status, again["duplicate"].clone()), (200, json!(true)));
    let w = wallet(&hub, "ivy").await;
    assert_eq!(
        (w["buz_balance"].clone(), w["available"].clone()),
        (json!(MAX), json!(MAX))
    );
    let (status, verify) = hub
        .get("/api/v1/wallet/me/verify", &token("ivy", AccountRole::User))
        .await;
    assert_eq!(
        (status, verify["ok"].clone()),
        (200, json!(true)),
        "{verify}"
    );
    hub.stop().await.unwrap();
}

/// `POST /api/dev/sample-task` (development only): a new user, under the default gates (KYC
/// required, reputation 60), is made eligible and credited as the platform would: BUZ by the
/// formula (tier B 100 × quality 0.9 × trust 0.8, rounded: 72), XP, and at the fifth task the
/// Early Contributor badge.
async fn a_development_sample_task_credits_a_new_user_past_the_default_gates(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.environment = "development".into()).await;
    let newbie = hub.token("newbie");
    let mut credited = 0;
    for i in 1..=5 {
        let (status, done) = hub.post("/api/dev/sample-task", &newbie, json!({})).await;
        assert_eq!(status, 201, "{done}");
        assert_eq!(done["kind"], "task.accepted");
        assert_eq!(done["buz"]["withheld"], 0, "{done}");
        let each = done["buz"]["credited"].as_i64().unwrap();
        assert_eq!(
            each,
            hub_rooms::wallets::task_buz("B", 0.9, 80.0),
            "task {i}"
        );
        credited += each;
    }
    let (_, wallet) = hub.get("/api/v1/wallet/me", &newbie).await;
    assert_eq!(wallet["buz_balance"], credited, "{wallet}");
    let (_, profile) = hub.get("/api/v1/profiles/me", &newbie).await;
    assert!(profile["xp"].as_i64().unwrap() > 0, "{profile}");
    let badges: Vec<&str> = profile["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(badges, ["early_contributor"], "{profile}");
    // In a venture of mine, it is in the venture's feed; in another's, refused.
    let mine = hub.venture("newbie", "Newbie Labs").await;
    let (status, _) = hub
        .post("/api/dev/sample-task", &newbie, json!({"venture_id": mine}))
        .await;
    assert_eq!(status, 201);
    let (_, feed) = hub
        .get(&format!("/api/v1/ventures/{mine}/activity"), &newbie)
        .await;
    assert!(
        feed["activities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["verb"] == "task.accepted"),
        "{feed}"
    );
    let theirs = hub.venture("someone", "Not Yours").await;
    let (status, body) = hub
        .post(
            "/api/dev/sample-task",
            &newbie,
            json!({"venture_id": theirs}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    hub.stop().await.unwrap();
    // Anywhere but development, the route does not exist.
    let prod = TestHub::start(backend).await;
    let (status, _) = prod
        .post("/api/dev/sample-task", &prod.token("newbie"), json!({}))
        .await;
    assert_eq!(status, 404);
    prod.stop().await.unwrap();
}
