//! The WORM audit log on both backends: every venture, team, membership and document change is
//! recorded in its venture's chain; the database refuses to rewrite a row; a row changed behind
//! the hub's back (the test lifts the trigger, edits, restores it) is found at its exact entry,
//! health says so, and a reanchor records the break without rewriting anything. And the
//! `worm-integrity` job runs once per period across two nodes racing for it.

mod common;

use common::{Backend, TestDb, TestHub, WAIT};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    every_change_is_recorded_in_its_ventures_chain,
    the_database_refuses_to_rewrite_the_log,
    a_row_changed_behind_the_hubs_back_is_found_and_reanchored,
    the_integrity_job_runs_once_per_period_across_nodes,
);

fn admin(hub: &TestHub) -> String {
    hub.token_with("ops", Some("Ops"), AccountRole::Admin)
}

async fn integrity(hub: &TestHub) -> Value {
    let (status, body) = hub.get("/api/debug/worm/integrity", &admin(hub)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The report's entry for `scope`.
fn scope<'a>(report: &'a Value, scope: &str) -> &'a Value {
    report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == scope)
        .unwrap_or_else(|| panic!("no scope {scope} in {report}"))
}

/// A venture with eight recorded changes; returns its id.
async fn eight_changes(hub: &TestHub) -> String {
    let alice = hub.token("alice");
    let venture = hub.venture("alice", "Acme").await; // 1 venture.created
    hub.add_member(&venture, "alice", "bob", "member").await; // 2 member.added
    hub.add_member(&venture, "alice", "bob", "admin").await; // 3 member.role_changed
    hub.add_member(&venture, "alice", "bob", "admin").await; // no change: nothing recorded
    let (status, team) = hub
        .post(
            &format!("/api/v1/ventures/{venture}/teams"),
            &alice,
            json!({"name": "Core"}),
        )
        .await; // 4 team.created
    assert_eq!(status, 201, "{team}");
    let team = team["id"].as_str().unwrap();
    let (status, _) = hub
        .post(
            &format!("/api/v1/teams/{team}/members"),
            &alice,
            json!({"user_id": "bob", "role": "member"}),
        )
        .await; // 5 member.added (team)
    assert!(status == 201 || status == 200);
    let (status, doc) = hub
        .post(
            "/api/v1/docs",
            &alice,
            json!({"room": format!("team:{team}"), "title": "Plan"}),
        )
        .await; // 6 document.created (a team room's document: the venture's chain)
    assert_eq!(status, 201, "{doc}");
    let (status, _) = hub
        .delete(
            &format!("/api/v1/docs/{}", doc["id"].as_str().unwrap()),
            &alice,
        )
        .await; // 7 document.deleted
    assert_eq!(status, 204);
    let (status, _) = hub
        .delete(&format!("/api/v1/ventures/{venture}/members/bob"), &alice)
        .await; // 8 member.removed
    assert_eq!(status, 204);
    venture
}

async fn every_change_is_recorded_in_its_ventures_chain(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let venture = eight_changes(&hub).await;
    let report = integrity(&hub).await;
    assert_eq!(report["ok"], true, "{report}");
    let chain = scope(&report, &format!("venture:{venture}"));
    assert_eq!(chain["entries"], 8, "{chain}");
    assert_eq!(chain["first_broken"], Value::Null);
    // Operators only.
    let (status, _) = hub
        .get("/api/debug/worm/integrity", &hub.token("alice"))
        .await;
    assert_eq!(status, 403);
    hub.stop().await.unwrap();
}

async fn raw(hub: &TestHub) -> sqlx::AnyConnection {
    common::raw_db(hub).await
}

async fn the_database_refuses_to_rewrite_the_log(backend: Backend) {
    let hub = TestHub::start(backend).await;
    eight_changes(&hub).await;
    let mut conn = raw(&hub).await;
    for sql in [
        "UPDATE worm_audits SET action = 'nothing' WHERE seq = 1",
        "DELETE FROM worm_audits WHERE seq = 2",
        "DELETE FROM worm_audits",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
    assert_eq!(integrity(&hub).await["ok"], true);
    hub.stop().await.unwrap();
}

/// Changes the `details` of entry `seq` of `scope` directly, with the trigger lifted.
async fn tamper(hub: &TestHub, scope: &str, seq: i64) {
    let edit = format!(
        "UPDATE worm_audits SET details = '{{\"role\":\"owner\"}}' WHERE scope = '{scope}' AND seq = {seq}"
    );
    common::edit_append_only(hub, "worm_audits", &edit).await;
}

async fn a_row_changed_behind_the_hubs_back_is_found_and_reanchored(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let venture = eight_changes(&hub).await;
    let name = format!("venture:{venture}");
    tamper(&hub, &name, 3).await;

    // The job finds it; health turns degraded.
    let (status, run) = hub
        .post(
            "/api/debug/jobs/worm-integrity/run",
            &admin(&hub),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["result"], "ok");
    assert_eq!(run["output"]["ok"], false);
    let chain = scope(&run["output"], &name);
    assert_eq!(chain["ok"], false);
    assert_eq!(chain["first_broken"]["seq"], 3);
    assert!(
        chain["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("hash"),
        "{chain}"
    );
    let (_, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(health["status"], "degraded");
    assert!(health["reason"].as_str().unwrap().contains("audit"));
    // Admins are told once, however many checks find the same break.
    let (status, again) = hub
        .post(
            "/api/debug/jobs/worm-integrity/run",
            &admin(&hub),
            json!({}),
        )
        .await;
    assert_eq!((status, &again["output"]["ok"]), (200, &json!(false)));
    let (_, notes) = hub.get("/api/v1/notifications", &admin(&hub)).await;
    let told: Vec<&Value> = notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "audit_broken")
        .collect();
    assert_eq!(told.len(), 1, "{notes}");
    assert_eq!(told[0]["data"]["scopes"][0]["scope"], name);
    assert_eq!(told[0]["data"]["scopes"][0]["first_broken"]["seq"], 3);

    // The repair appends a record of the break; nothing is rewritten.
    let (status, repaired) = hub
        .post("/api/debug/worm/reanchor", &admin(&hub), json!({}))
        .await;
    assert_eq!(status, 200, "{repaired}");
    assert_eq!(repaired["ok"], true, "{repaired}");
    let chain = scope(&repaired, &name);
    assert_eq!(chain["reanchored"], json!([3]));
    assert_eq!(chain["entries"], 9, "the eight, and the reanchor");
    let (_, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(health["status"], "healthy");
    // The chain goes on from the reanchor; a later tamper is still found, at its entry.
    hub.add_member(&venture, "alice", "carol", "viewer").await;
    tamper(&hub, &name, 10).await;
    let report = integrity(&hub).await;
    assert_eq!(scope(&report, &name)["first_broken"]["seq"], 10);
    hub.stop().await.unwrap();
}

async fn the_integrity_job_runs_once_per_period_across_nodes(backend: Backend) {
    let clock = ManualClock::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let runtime = || hub::Runtime {
        clock: clock.clone(),
        ..hub::Runtime::default()
    };
    let a = TestHub::start_in(db, runtime(), |_| {}).await;
    let b = TestHub::start_in(shared, runtime(), |_| {}).await;
    eight_changes(&a).await;
    let results = async |hub: &TestHub| -> Value {
        let (status, body) = hub.get("/api/debug/jobs/health", &admin(hub)).await;
        assert_eq!(status, 200, "{body}");
        body["jobs"][0].clone()
    };
    let job = results(&a).await;
    assert_eq!(job["name"], "worm-integrity");
    assert_eq!(job["schedule"], "every 5m");
    assert_eq!(job["last_result"], Value::Null, "not due before its period");

    // One period later both nodes find it due; exactly one gets the lease and runs it.
    clock.advance(Duration::from_secs(5 * 60));
    let deadline = tokio::time::Instant::now() + WAIT;
    let (ja, jb) = loop {
        let (ja, jb) = (results(&a).await, results(&b).await);
        if !ja["last_result"].is_null() && !jb["last_result"].is_null() {
            break (ja, jb);
        }
        assert!(tokio::time::Instant::now() < deadline, "{ja} {jb}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut outcomes = vec![
        ja["last_result"].as_str().unwrap().to_owned(),
        jb["last_result"].as_str().unwrap().to_owned(),
    ];
    outcomes.sort();
    assert_eq!(outcomes, vec!["ok", "skipped"], "{ja} {jb}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
