//! Conversion windows and equity on both backends, on the hub's manual clock: the whole window
//! lifecycle (scheduled, open, closed with its pending requests expired, finalized, and the
//! next quarter's window scheduled), approvals and rejections by the venture's board with their
//! ledger entries, notifications and Equity Pioneer, and 200 concurrent credits and conversion
//! requests on one wallet leaving the right balance and an intact chain.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_window_lives_from_scheduled_to_finalized,
    two_hundred_concurrent_credits_and_conversions_keep_the_wallet_right,
    nobody_decides_her_own_conversion_request,
);

const DAY_MS: i64 = 86_400_000;

fn admin() -> String {
    token("ops", AccountRole::Admin)
}

use common::lax_buz as lax;

async fn credit(hub: &TestHub, id: &str, user: &str) -> (u16, Value) {
    hub.post(
        "/api/v1/events/task/accepted",
        &token("platform", AccountRole::System),
        json!({"task_id": id, "user_id": user, "tier": "S", "quality": 1.0, "reviewer_trust": 100}),
    )
    .await
}

async fn run_job(hub: &TestHub) -> Value {
    let (status, run) = hub
        .post(
            "/api/debug/jobs/conversion-windows/run",
            &admin(),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(run["result"], "ok", "{run}");
    run["output"].clone()
}

async fn wallet(hub: &TestHub, user: &str) -> (i64, i64, i64) {
    let (_, w) = hub
        .get("/api/v1/wallet/me", &token(user, AccountRole::User))
        .await;
    (
        w["buz_balance"].as_i64().unwrap(),
        w["pending_lock"].as_i64().unwrap(),
        w["available"].as_i64().unwrap(),
    )
}

async fn a_window_lives_from_scheduled_to_finalized(backend: Backend) {
    let start = today_at(3);
    let clock = ManualClock::new(start);
    let hub = hub_on_clock(backend, &clock, lax).await;
    let (alice, bob, carl) = (
        token("alice", AccountRole::User),
        token("bob", AccountRole::User),
        token("carl", AccountRole::User),
    );
    let (_, v) = hub
        .post("/api/v1/ventures", &alice, json!({"name": "Acme"}))
        .await;
    let venture = v["id"].as_str().unwrap().to_owned();
    for user in ["bob", "carl"] {
        hub.add_member(&venture, "alice", user, "member").await;
    }
    for i in 0..3 {
        assert_eq!(credit(&hub, &format!("b{i}"), "bob").await.0, 201); // 400 each
    }
    // Admins create windows; fields are checked; windows never overlap.
    let at = |ms: i64| hub::store::rfc3339(ms);
    let window = json!({"name": "Founding round", "opens_at": at(start + DAY_MS),
                        "closes_at": at(start + 8 * DAY_MS), "equity_rate_bps": 25});
    assert_eq!(
        hub.post("/api/v1/conversion-windows", &bob, window.clone())
            .await
            .0,
        403
    );
    for (patch, field) in [
        (json!({"opens_at": "tomorrow"}), "opens_at"),
        (json!({"closes_at": at(start)}), "closes_at"),
        (json!({"equity_rate_bps": 0}), "equity_rate_bps"),
        (json!({"name": ""}), "name"),
    ] {
        let mut body = window.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = hub.post("/api/v1/conversion-windows", &admin(), body).await;
        assert_eq!(status, 400, "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().starts_with(field),
            "{err}"
        );
    }
    let (status, created) = hub
        .post("/api/v1/conversion-windows", &admin(), window.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "SCHEDULED");
    let id = created["id"].as_str().unwrap().to_owned();
    let mut overlapping = window.clone();
    overlapping["opens_at"] = json!(at(start + 7 * DAY_MS));
    overlapping["closes_at"] = json!(at(start + 9 * DAY_MS));
    assert_eq!(
        hub.post("/api/v1/conversion-windows", &admin(), overlapping)
            .await
            .0,
        409
    );
    let (_, active) = hub.get("/api/v1/conversion-windows/active", &bob).await;
    assert_eq!(active["window"], Value::Null);
    // Not open yet.
    let request = |buz: i64| json!({"window_id": id, "venture_id": venture, "buz": buz});
    assert_eq!(
        hub.post("/api/v1/equity/convert", &bob, request(100))
            .await
            .0,
        409
    );

    // A day later the job opens it (the scheduler may run it first: the clock says it is due).
    clock.advance(Duration::from_millis(DAY_MS as u64));
    run_job(&hub).await;
    let (_, active) = hub.get("/api/v1/conversion-windows/active", &bob).await;
    assert_eq!(
        (
            active["window"]["id"].clone(),
            active["window"]["status"].clone()
        ),
        (json!(id), json!("OPEN"))
    );

    let mut live = Sio::connect(hub.addr, &bob).await;
    for (who, buz, status) in [
        (&bob, 0, 400),
        (&bob, 1201, 409),
        (&token("eve", AccountRole::User), 10, 404),
    ] {
        let (got, body) = hub.post("/api/v1/equity/convert", who, request(buz)).await;
        assert_eq!(got, status, "{buz}: {body}");
    }
    let mut requests = Vec::new();
    for buz in [1000, 100, 100] {
        let (status, r) = hub.post("/api/v1/equity/convert", &bob, request(buz)).await;
        assert_eq!(status, 201, "{r}");
        assert_eq!(
            (r["status"].clone(), r["equity_granted_bp"].clone()),
            (json!("PENDING"), Value::Null)
        );
        requests.push(r["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(wallet(&hub, "bob").await, (1200, 1200, 0));
    assert_eq!(
        hub.post("/api/v1/equity/convert", &bob, request(1)).await.0,
        409,
        "nothing available"
    );
    let update = live
        .event_where("wallet:updated", |u| u["available"] == 0)
        .await;
    assert_eq!(update["pending_lock"], 1200);

    // The board decides: members who are not owners may not.
    let decide = |id: &str, approve: bool, who: &str| {
        let path = format!("/api/v1/equity/conversions/{id}/decide");
        let body = json!({"approve": approve, "note": "board meeting"});
        let tok = if who == "ops" {
            admin()
        } else {
            token(who, AccountRole::User)
        };
        let hub = &hub;
        async move { hub.post(&path, &tok, body).await }
    };
    assert_eq!(decide(&requests[0], true, "carl").await.0, 403);
    assert_eq!(decide(&requests[0], true, "eve").await.0, 404);
    let (status, approved) = decide(&requests[0], true, "alice").await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(approved["equity_granted_bp"], 25, "floor(1000 × 25 / 1000)");
    assert_eq!(approved["decided_by"], "alice");
    assert_eq!(
        decide(&requests[0], false, "alice").await.0,
        409,
        "already decided"
    );
    let (_, rejected) = decide(&requests[1], false, "ops").await;
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(wallet(&hub, "bob").await, (200, 100, 100));
    let told = live
        .event_where("notification", |n| n["kind"] == "conversion_decided")
        .await;
    assert_eq!(
        told["data"],
        json!({"conversion_id": requests[0], "venture_id": venture, "status": "APPROVED",
               "buz_used": 1000, "equity_granted_bp": 25, "note": "board meeting"})
    );
    // Equity Pioneer: an approved conversion in the first window there ever was.
    let (_, p) = hub.get("/api/v1/profiles/me", &bob).await;
    let codes: Vec<&str> = p["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"equity_pioneer"), "{codes:?}");
    // Lists: mine, and the venture's for its owners.
    let (_, mine) = hub.get("/api/v1/equity/conversions", &bob).await;
    assert_eq!(mine["conversions"].as_array().unwrap().len(), 3);
    let path = format!("/api/v1/equity/conversions?venture_id={venture}");
    assert_eq!(
        hub.get(&path, &alice).await.1["conversions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(hub.get(&path, &carl).await.0, 403);

    // The window closes: the pending request expires and its BUZ is unlocked.
    clock.advance(Duration::from_millis(7 * DAY_MS as u64));
    run_job(&hub).await;
    let (_, third) = hub.get("/api/v1/equity/conversions", &bob).await;
    let expired = third["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == requests[2])
        .cloned()
        .unwrap();
    assert_eq!(expired["status"], "EXPIRED");
    assert_eq!(wallet(&hub, "bob").await, (200, 0, 200));
    assert_eq!(decide(&requests[2], true, "alice").await.0, 409);
    // The run after: finalized; and the next quarter's window scheduled once, with the last
    // rate, opening at the quarter's start.
    let out = run_job(&hub).await;
    assert_eq!(out["scheduled"], Value::Null, "scheduled once");
    let (_, all) = hub.get("/api/v1/conversion-windows", &bob).await;
    let windows = all["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{all}");
    assert_eq!(
        (windows[1]["name"].clone(), windows[1]["status"].clone()),
        (json!("Founding round"), json!("FINALIZED"))
    );
    let (name, opens, closes) = hub_rooms::wallets::next_quarter(start + 8 * DAY_MS);
    assert_eq!(windows[0]["name"], name);
    assert_eq!(windows[0]["status"], "SCHEDULED");
    assert_eq!(windows[0]["equity_rate_bps"], 25);
    assert_eq!(windows[0]["opens_at"], hub::store::rfc3339(opens));
    assert_eq!(windows[0]["closes_at"], hub::store::rfc3339(closes));
    // Every decision is in the venture's chain, and bob's ledger holds together.
    let (_, verify) = hub.get("/api/v1/wallet/me/verify", &bob).await;
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        verify["entries"],
        3 + 3 + 3,
        "3 EARN, 3 LOCK, SPEND + UNLOCK + UNLOCK"
    );
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    assert_eq!(report["ok"], true);
    hub.stop().await.unwrap();
}

async fn two_hundred_concurrent_credits_and_conversions_keep_the_wallet_right(backend: Backend) {
    let clock = ManualClock::new(today_at(3));
    let hub = hub_on_clock(backend, &clock, |c| {
        lax(c);
        c.db_max_connections = 8;
    })
    .await;
    let (_, v) = hub
        .post(
            "/api/v1/ventures",
            &token("vic", AccountRole::User),
            json!({"name": "V"}),
        )
        .await;
    let venture = v["id"].as_str().unwrap().to_owned();
    let now = today_at(3);
    let (_, window) = hub
        .post(
            "/api/v1/conversion-windows",
            &admin(),
            json!({"name": "Now", "opens_at": hub::store::rfc3339(now - 1000),
                   "closes_at": hub::store::rfc3339(now + DAY_MS), "equity_rate_bps": 10}),
        )
        .await;
    assert_eq!(window["status"], "OPEN");
    for i in 0..2 {
        credit(&hub, &format!("seed{i}"), "vic").await; // 800 to start with
    }
    // 100 credits of 400 and 100 requests of 50 at once.
    let vic = token("vic", AccountRole::User);
    let credits = (0..100).map(|i| {
        let hub = &hub;
        async move { credit(hub, &format!("c{i}"), "vic").await.0 }
    });
    let converts = (0..100).map(|_| {
        let body = json!({"window_id": window["id"], "venture_id": venture, "buz": 50});
        let (hub, vic) = (&hub, &vic);
        async move { hub.post("/api/v1/equity/convert", vic, body).await.0 }
    });
    let (credited, converted) = futures_util::future::join(
        futures_util::future::join_all(credits),
        futures_util::future::join_all(converts),
    )
    .await;
    assert!(credited.iter().all(|s| *s == 201), "{credited:?}");
    let locked = converted.iter().filter(|s| **s == 201).count() as i64;
    assert!(
        converted.iter().all(|s| *s == 201 || *s == 409),
        "{converted:?}"
    );
    // 800 to start, and 100 × 400 more: enough for all 100 requests once credits land; how
    // many got in depends on the order, but the books add up whatever it was.
    let (balance, pending, available) = wallet(&hub, "vic").await;
    assert_eq!(balance, 800 + 100 * 400);
    assert_eq!(pending, 50 * locked);
    assert_eq!(available, balance - pending);
    assert!(available >= 0);
    assert!(
        locked >= 16,
        "at least 800 / 50 requests found BUZ: {locked}"
    );
    let (_, verify) = hub.get("/api/v1/wallet/me/verify", &vic).await;
    assert_eq!(
        verify,
        json!({"ok": true, "entries": 102 + locked, "balance_matches": true, "first_broken": null})
    );
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    assert_eq!(report["ok"], true);
    hub.stop().await.unwrap();
}

/// Board approval is never self-service: a requester cannot decide her own request, even as an
/// owner; another owner or an admin does, and a one-owner venture's requests go to the admins.
async fn nobody_decides_her_own_conversion_request(backend: Backend) {
    let start = today_at(3);
    let clock = ManualClock::new(start);
    let hub = hub_on_clock(backend, &clock, lax).await;
    let alice = token("alice", AccountRole::User);
    let (_, v) = hub
        .post("/api/v1/ventures", &alice, json!({"name": "Solo"}))
        .await;
    let solo = v["id"].as_str().unwrap().to_owned();
    let (_, v) = hub
        .post("/api/v1/ventures", &alice, json!({"name": "Duo"}))
        .await;
    let duo = v["id"].as_str().unwrap().to_owned();
    let (status, added) = hub
        .post(
            &format!("/api/v1/ventures/{duo}/members"),
            &admin(),
            json!({"user_id": "bob", "role": "owner"}),
        )
        .await;
    assert!([200, 201].contains(&status), "{added}");
    assert_eq!(credit(&hub, "a0", "alice").await.0, 201);
    let at = |ms: i64| hub::store::rfc3339(ms);
    let (status, window) = hub
        .post(
            "/api/v1/conversion-windows",
            &admin(),
            json!({"name": "Round", "opens_at": at(start + DAY_MS),
                   "closes_at": at(start + 8 * DAY_MS), "equity_rate_bps": 25}),
        )
        .await;
    assert_eq!(status, 201, "{window}");
    clock.advance(Duration::from_millis(DAY_MS as u64));
    run_job(&hub).await;
    let ask = |venture: &str| {
        let body = json!({"window_id": window["id"], "venture_id": venture, "buz": 100});
        let (hub, alice) = (&hub, &alice);
        async move {
            let (status, r) = hub.post("/api/v1/equity/convert", alice, body).await;
            assert_eq!(status, 201, "{r}");
            r["id"].as_str().unwrap().to_owned()
        }
    };
    let decide = |id: String, tok: String| {
        let path = format!("/api/v1/equity/conversions/{id}/decide");
        let hub = &hub;
        async move { hub.post(&path, &tok, json!({"approve": true})).await }
    };
    // Solo: alice is the only owner; her own decision is refused, an admin's stands.
    let mine = ask(&solo).await;
    let (status, err) = decide(mine.clone(), alice.clone()).await;
    assert_eq!(status, 403, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("her own"),
        "{err}"
    );
    let (status, done) = decide(mine, admin()).await;
    assert_eq!(
        (status, done["decided_by"].clone()),
        (200, json!("ops")),
        "{done}"
    );
    // Duo: the other owner decides.
    let mine = ask(&duo).await;
    assert_eq!(decide(mine.clone(), alice.clone()).await.0, 403);
    let (status, done) = decide(mine, token("bob", AccountRole::User)).await;
    assert_eq!(
        (status, done["decided_by"].clone()),
        (200, json!("bob")),
        "{done}"
    );
    // An admin who asked for herself is a requester too.
    let (_, v) = hub
        .post("/api/v1/ventures", &admin(), json!({"name": "Ops"}))
        .await;
    let ops_venture = v["id"].as_str().unwrap().to_owned();
    assert_eq!(credit(&hub, "o0", "ops").await.0, 201);
    let (status, r) = hub
        .post(
            "/api/v1/equity/convert",
            &admin(),
            json!({"window_id": window["id"], "venture_id": ops_venture, "buz": 50}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(id, admin()).await.0, 403);
    hub.stop().await.unwrap();
}
