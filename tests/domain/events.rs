//! Events in on both backends: stored once by their own id (a replay answers `200` with
//! `duplicate: true` and changes nothing, even ten at once), audited in the user's chain,
//! refused with `400 invalid` naming the field out of range, and only from system or admin
//! accounts.

use crate::common;

use common::{Backend, TestHub};
use hub_protocol::AccountRole;
use serde_json::{Value, json};

on_both_backends!(
    an_event_is_stored_once_and_a_replay_changes_nothing,
    out_of_range_fields_are_named,
    only_system_and_admin_accounts_send_events,
    kyc_returns_to_a_status_it_once_had,
);

fn system(hub: &TestHub) -> String {
    hub.token_with("platform", Some("Platform"), AccountRole::System)
}

fn task(id: &str) -> Value {
    json!({"task_id": id, "user_id": "bob", "tier": "A", "quality": 1.2, "reviewer_trust": 150})
}

async fn user_chain(hub: &TestHub, user: &str) -> Value {
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (status, report) = hub.get("/api/debug/worm/integrity", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(report["ok"], true, "{report}");
    report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == format!("user:{user}"))
        .cloned()
        .unwrap_or(Value::Null)
}

async fn an_event_is_stored_once_and_a_replay_changes_nothing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = system(&hub);
    let (status, first) = hub
        .post("/api/v1/events/task/accepted", &token, task("t-1"))
        .await;
    assert_eq!(status, 201, "{first}");
    // A: 150 × 1.2 × clamp(sqrt(1.5), 0.7, 1.1) = 198 BUZ, withheld: bob has not passed KYC.
    let buz = json!({"computed": 198, "credited": 0, "withheld": 198, "reason": "kyc"});
    assert_eq!(
        first,
        json!({"id": "t-1", "kind": "task.accepted", "duplicate": false, "buz": buz})
    );
    let (status, again) = hub
        .post("/api/v1/events/task/accepted", &token, task("t-1"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        again["buz"], buz,
        "a replay answers what the first delivery did"
    );

    // Ten replays at once of a new event: one is first.
    let sends = (0..10).map(|_| hub.post("/api/v1/events/task/accepted", &token, task("t-2")));
    let mut statuses: Vec<u16> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    statuses.sort();
    assert_eq!(statuses, [vec![200; 9], vec![201]].concat());

    // KYC and device reports are keyed by user and status, user and day.
    for (path, body, expected) in [
        ("kyc", json!({"user_id": "bob", "status": "PENDING"}), 201),
        ("kyc", json!({"user_id": "bob", "status": "PENDING"}), 200),
        ("kyc", json!({"user_id": "bob", "status": "PASSED"}), 201),
        (
            "device",
            json!({"user_id": "bob", "date": "2026-11-21", "compliant": true}),
            201,
        ),
        (
            "device",
            json!({"user_id": "bob", "date": "2026-11-21", "compliant": false}),
            200,
        ),
        (
            "bug",
            json!({"bug_id": "b-1", "user_id": "bob", "severity": "high"}),
            201,
        ),
        (
            "violation",
            json!({"violation_id": "v-1", "user_id": "bob", "kind": "spam"}),
            201,
        ),
        (
            "review",
            json!({"review_id": "r-1", "reviewer_id": "carol", "user_id": "bob", "helpful": true,
                   "agreed": true, "quality": 4, "reviewer_trust": 80}),
            201,
        ),
    ] {
        let (status, answer) = hub
            .post(&format!("/api/v1/events/{path}"), &token, body.clone())
            .await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
    }
    // Each first delivery is audited once, in bob's chain: t-1, t-2, 2 kyc, device, bug,
    // violation, review.
    assert_eq!(user_chain(&hub, "bob").await["entries"], 8);
    hub.stop().await.unwrap();
}

async fn out_of_range_fields_are_named(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = system(&hub);
    for (path, body, field) in [
        (
            "task/accepted",
            json!({"task_id": "t", "user_id": "bob", "tier": "A", "quality": 1.5, "reviewer_trust": 1}),
            "quality",
        ),
        (
            "task/accepted",
            json!({"task_id": "t", "user_id": "bob", "tier": "Z", "quality": 1.0, "reviewer_trust": 1}),
            "tier",
        ),
        (
            "task/accepted",
            json!({"task_id": "t", "user_id": "bob", "tier": "S", "quality": 1.0, "reviewer_trust": 201}),
            "reviewer_trust",
        ),
        (
            "task/accepted",
            json!({"task_id": "", "user_id": "bob", "tier": "S", "quality": 1.0, "reviewer_trust": 1}),
            "task_id",
        ),
        (
            "review",
            json!({"review_id": "r", "reviewer_id": "c", "user_id": "bob", "helpful": true, "agreed": false, "quality": 0, "reviewer_trust": 1}),
            "quality",
        ),
        (
            "bug",
            json!({"bug_id": "b", "user_id": "bob", "severity": "urgent"}),
            "severity",
        ),
        (
            "kyc",
            json!({"user_id": "bob", "status": "passed"}),
            "status",
        ),
        (
            "device",
            json!({"user_id": "bob", "date": "2026-02-30", "compliant": true}),
            "date",
        ),
    ] {
        let (status, answer) = hub
            .post(&format!("/api/v1/events/{path}"), &token, body.clone())
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field),
            "{field} not named: {answer}"
        );
    }
    // A missing field is a malformed body: 422, naming it too.
    let (status, answer) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token,
            json!({"task_id": "t", "user_id": "bob", "tier": "S"}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("quality")
    );
    // Nothing was stored or audited.
    assert_eq!(user_chain(&hub, "bob").await, Value::Null);
    hub.stop().await.unwrap();
}

async fn only_system_and_admin_accounts_send_events(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (status, _) = hub
        .post(
            "/api/v1/events/task/accepted",
            &hub.token("bob"),
            task("t-9"),
        )
        .await;
    assert_eq!(status, 403);
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (status, _) = hub
        .post("/api/v1/events/task/accepted", &admin, task("t-9"))
        .await;
    assert_eq!(status, 201);
    hub.stop().await.unwrap();
}

/// KYC's latest status wins, also when it returns to one it had: FAILED → PASSED → FAILED
/// leaves the user FAILED (a task's BUZ is withheld for KYC), and the reverse leaves them
/// PASSED (credited). The same status again is a replay; an event with its own `kyc_id` is
/// deduplicated by it, even after the status moved on.
async fn kyc_returns_to_a_status_it_once_had(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = system(&hub);
    let kyc = |user: &str, status: &str, id: Option<&str>| {
        let mut body = json!({"user_id": user, "status": status});
        if let Some(id) = id {
            body["kyc_id"] = json!(id);
        }
        let (hub, token) = (&hub, &token);
        async move { hub.post("/api/v1/events/kyc", token, body).await }
    };
    let credited = |user: &str, task: &str| {
        let body = json!({"task_id": task, "user_id": user, "tier": "C", "quality": 1.0,
                          "reviewer_trust": 100});
        let (hub, token) = (&hub, &token);
        async move {
            let (status, answer) = hub.post("/api/v1/events/task/accepted", token, body).await;
            assert_eq!(status, 201, "{answer}");
            answer["buz"].clone()
        }
    };
    // (status sent, expected HTTP status, expected id)
    for (status, http, id) in [
        ("FAILED", 201, "fay:FAILED"),
        ("PASSED", 201, "fay:PASSED"),
        ("PASSED", 200, "fay:PASSED"),
        ("FAILED", 201, "fay:FAILED:1"),
        ("FAILED", 200, "fay:FAILED:1"),
    ] {
        let (got, answer) = kyc("fay", status, None).await;
        assert_eq!(
            (got, answer["id"].as_str().unwrap()),
            (http, id),
            "{answer}"
        );
    }
    let buz = credited("fay", "t-fay").await;
    assert_eq!(
        (buz["credited"].clone(), buz["reason"].clone()),
        (json!(0), json!("kyc")),
        "{buz}"
    );

    for (status, id) in [
        ("PASSED", "pat:PASSED"),
        ("FAILED", "pat:FAILED"),
        ("PASSED", "pat:PASSED:1"),
    ] {
        let (got, answer) = kyc("pat", status, None).await;
        assert_eq!((got, answer["id"].as_str().unwrap()), (201, id), "{answer}");
    }
    // Not withheld for KYC (a new user's reputation gate may still hold it).
    let buz = credited("pat", "t-pat").await;
    assert_ne!(buz["reason"], "kyc", "{buz}");

    // Source ids: a late retry of an old event changes nothing.
    assert_eq!(kyc("kim", "PASSED", Some("src-1")).await.0, 201);
    assert_eq!(kyc("kim", "FAILED", Some("src-2")).await.0, 201);
    let (got, answer) = kyc("kim", "PASSED", Some("src-1")).await;
    assert_eq!((got, answer["duplicate"].clone()), (200, json!(true)));
    let buz = credited("kim", "t-kim").await;
    assert_eq!(buz["reason"], "kyc", "kim is still FAILED: {buz}");
    hub.stop().await.unwrap();
}
