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
    a_cut_tail_and_a_moved_head_are_found_and_a_reanchor_names_content,
    a_head_moves_forward_only_over_entries_that_all_exist,
    a_broken_wallet_ledger_is_found_reanchored_once_and_health_recovers,
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
async fn ten_changes(hub: &TestHub) -> String {
    let alice = hub.token("alice");
    let venture = hub.venture("alice", "Acme").await; // 1 venture.created
    hub.add_member(&venture, "alice", "bob", "member").await; // 2 member.invited, 3 member.added
    hub.add_member(&venture, "alice", "bob", "admin").await; // 4 member.role_changed
    hub.add_member(&venture, "alice", "bob", "admin").await; // no change: nothing recorded
    let (status, team) = hub
        .post(
            &format!("/api/v1/ventures/{venture}/teams"),
            &alice,
            json!({"name": "Core"}),
        )
        .await; // 5 team.created
    assert_eq!(status, 201, "{team}");
    let team = team["id"].as_str().unwrap();
    // 6 member.invited, 7 member.added (team)
    hub.join_group(
        &format!("/api/v1/teams/{team}/members"),
        &alice,
        "bob",
        "member",
    )
    .await;
    let (status, doc) = hub
        .post(
            "/api/v1/docs",
            &alice,
            json!({"room": format!("team:{team}"), "title": "Plan"}),
        )
        .await; // 8 document.created (a team room's document: the venture's chain)
    assert_eq!(status, 201, "{doc}");
    let (status, _) = hub
        .delete(
            &format!("/api/v1/docs/{}", doc["id"].as_str().unwrap()),
            &alice,
        )
        .await; // 9 document.deleted
    assert_eq!(status, 204);
    let (status, _) = hub
        .delete(&format!("/api/v1/ventures/{venture}/members/bob"), &alice)
        .await; // 10 member.removed
    assert_eq!(status, 204);
    venture
}

async fn every_change_is_recorded_in_its_ventures_chain(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let venture = ten_changes(&hub).await;
    let report = integrity(&hub).await;
    assert_eq!(report["ok"], true, "{report}");
    let chain = scope(&report, &format!("venture:{venture}"));
    assert_eq!(chain["entries"], 10, "{chain}");
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
    ten_changes(&hub).await;
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
    let venture = ten_changes(&hub).await;
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
    assert_eq!(chain["entries"], 11, "the ten, and the reanchor");
    let (_, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(health["status"], "healthy");
    // The chain goes on from the reanchor; a later tamper is still found, at its entry.
    hub.add_member(&venture, "alice", "carol", "viewer").await; // 12, 13
    tamper(&hub, &name, 12).await;
    let report = integrity(&hub).await;
    assert_eq!(scope(&report, &name)["first_broken"]["seq"], 12);
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
    ten_changes(&a).await;
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

/// A batch of writes moves each head once, several entries forward; the database lets a head
/// move so only over entries that all exist (a head past a gap, back, or onto an entry that is
/// not the one at its seq is refused), for audit chains and wallets alike.
async fn a_head_moves_forward_only_over_entries_that_all_exist(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut conn = raw(&hub).await;
    let run = async |conn: &mut sqlx::AnyConnection, sql: &str| {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(conn)
            .await
            .map(|_| ())
    };
    let refused = async |conn: &mut sqlx::AnyConnection, sql: &str| {
        let err = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(conn)
            .await
            .expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    };
    let entry = |seq: i64| {
        format!(
            "INSERT INTO worm_audits (id, scope, seq, action, details, created_at, hash)
             VALUES ('gap-{seq}', 'test:gap', {seq}, 'test.step', '{{}}', 0, 'h{seq}')"
        )
    };
    run(
        &mut conn,
        "INSERT INTO worm_heads (scope, seq, hash) VALUES ('test:gap', 0, NULL)",
    )
    .await
    .unwrap();
    run(&mut conn, &entry(1)).await.unwrap();
    run(&mut conn, &entry(3)).await.unwrap();
    // Past the missing 2.
    refused(
        &mut conn,
        "UPDATE worm_heads SET seq = 3, hash = 'h3' WHERE scope = 'test:gap'",
    )
    .await;
    // Onto an entry with another hash.
    refused(
        &mut conn,
        "UPDATE worm_heads SET seq = 1, hash = 'h3' WHERE scope = 'test:gap'",
    )
    .await;
    run(&mut conn, &entry(2)).await.unwrap();
    // Three entries at once, all there.
    run(
        &mut conn,
        "UPDATE worm_heads SET seq = 3, hash = 'h3' WHERE scope = 'test:gap'",
    )
    .await
    .unwrap();
    refused(
        &mut conn,
        "UPDATE worm_heads SET seq = 2, hash = 'h2' WHERE scope = 'test:gap'",
    )
    .await;
    refused(
        &mut conn,
        "UPDATE worm_heads SET seq = 3, hash = 'h3' WHERE scope = 'test:gap'",
    )
    .await;

    // A wallet: its head and balance move together onto the last entry, over all of them.
    run(
        &mut conn,
        "INSERT INTO users (id, name, created_at, updated_at) VALUES ('gapper', 'Gapper', 0, 0)",
    )
    .await
    .unwrap();
    run(&mut conn, "INSERT INTO wallets (id, user_id, created_at, updated_at) VALUES ('w-gap', 'gapper', 0, 0)")
        .await
        .unwrap();
    let credit = |seq: i64| {
        format!(
            "INSERT INTO wallet_ledgers (id, wallet_id, seq, type, amount, balance_after, created_at, hash)
             VALUES ('wl-{seq}', 'w-gap', {seq}, 'EARN', 10, {}, 0, 'l{seq}')",
            10 * seq
        )
    };
    run(&mut conn, &credit(1)).await.unwrap();
    run(&mut conn, &credit(3)).await.unwrap();
    refused(
        &mut conn,
        "UPDATE wallets SET seq = 3, head_hash = 'l3', buz_balance = 30 WHERE id = 'w-gap'",
    )
    .await;
    run(&mut conn, &credit(2)).await.unwrap();
    // The balance must be the last entry's.
    refused(
        &mut conn,
        "UPDATE wallets SET seq = 3, head_hash = 'l3', buz_balance = 31 WHERE id = 'w-gap'",
    )
    .await;
    run(
        &mut conn,
        "UPDATE wallets SET seq = 3, head_hash = 'l3', buz_balance = 30 WHERE id = 'w-gap'",
    )
    .await
    .unwrap();
    refused(
        &mut conn,
        "UPDATE wallets SET seq = 2, head_hash = 'l2', buz_balance = 20 WHERE id = 'w-gap'",
    )
    .await;
}

/// Every chain is compared with its head: the last entries cut (which used to read as intact
/// until the next write) are found at the first missing seq, the heads and whole-table
/// statements are refused by the database, and a reanchor names the content it accepts, so the
/// same entry changed again is found again.
async fn a_cut_tail_and_a_moved_head_are_found_and_a_reanchor_names_content(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let venture = ten_changes(&hub).await;
    let name = format!("venture:{venture}");
    let mut conn = raw(&hub).await;
    let mut refused = vec![
        "UPDATE worm_heads SET seq = seq - 1".to_owned(),
        format!("UPDATE worm_heads SET hash = 'x' WHERE scope = '{name}'"),
        "DELETE FROM worm_heads".to_owned(),
    ];
    if hub.db.backend == Backend::Postgres {
        refused.extend(
            [
                "TRUNCATE worm_audits",
                "TRUNCATE worm_heads",
                "TRUNCATE wallet_ledgers",
            ]
            .map(str::to_owned),
        );
    }
    for sql in refused {
        let err = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(integrity(&hub).await["ok"], true);

    // The last two entries cut behind the hub's back.
    common::lift_trigger(
        &hub,
        "worm_audits",
        "DELETE",
        &format!("DELETE FROM worm_audits WHERE scope = '{name}' AND seq > 6"),
    )
    .await;
    let report = integrity(&hub).await;
    let chain = scope(&report, &name);
    assert_eq!(chain["ok"], false, "{chain}");
    assert_eq!(chain["first_broken"]["seq"], 7);
    assert_eq!(chain["first_broken"]["id"], "(cut)");
    assert!(
        chain["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("head names seq 10"),
        "{chain}"
    );
    let (status, repaired) = hub
        .post("/api/debug/worm/reanchor", &admin(&hub), json!({}))
        .await;
    assert_eq!(
        (status, repaired["ok"].clone()),
        (200, json!(true)),
        "{repaired}"
    );
    assert_eq!(scope(&repaired, &name)["reanchored"], json!([7]));
    // The chain goes on; cutting into it again is a new finding.
    hub.add_member(&venture, "alice", "carol", "viewer").await;
    assert_eq!(integrity(&hub).await["ok"], true);

    // A reanchored entry changed again is found again.
    tamper(&hub, &name, 3).await;
    hub.post("/api/debug/worm/reanchor", &admin(&hub), json!({}))
        .await;
    assert_eq!(integrity(&hub).await["ok"], true);
    common::edit_append_only(
        &hub,
        "worm_audits",
        &format!("UPDATE worm_audits SET details = '{{\"role\":\"admin\"}}' WHERE scope = '{name}' AND seq = 3"),
    )
    .await;
    let report = integrity(&hub).await;
    assert_eq!(scope(&report, &name)["first_broken"]["seq"], 3, "{report}");
    hub.stop().await.unwrap();
}

/// A wallet's ledger is compared with the wallet's head: a cut tail (two trailing entries that
/// cancel out, like a LOCK and its UNLOCK, and so leave the balance as it was) is found. A reanchor writes one entry per broken
/// wallet, in its owner's chain, and health recovers.
async fn a_broken_wallet_ledger_is_found_reanchored_once_and_health_recovers(backend: Backend) {
    let hub = TestHub::start_with(backend, common::lax_buz).await;
    let system = hub.token_with("platform", None, hub_protocol::AccountRole::System);
    let ops = admin(&hub);
    for task in ["t1", "t2"] {
        let (status, body) = hub
            .post(
                "/api/v1/events/task/accepted",
                &system,
                json!({"task_id": task, "user_id": "hal", "tier": "A", "quality": 1.0, "reviewer_trust": 100}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // An adjustment and its reversal: two entries whose loss the balance does not show.
    for amount in [50, -50] {
        let (status, body) = hub
            .post(
                "/api/v1/wallets/hal/adjust",
                &ops,
                json!({"amount": amount, "note": "round trip"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, wallet) = hub.get("/api/v1/wallets/hal", &ops).await;
    let wallet_scope = format!("wallet:{}", wallet["id"].as_str().unwrap());
    assert_eq!(integrity(&hub).await["ok"], true);
    common::lift_trigger(
        &hub,
        "wallet_ledgers",
        "DELETE",
        "DELETE FROM wallet_ledgers WHERE seq > 2",
    )
    .await;
    let report = integrity(&hub).await;
    let chain = scope(&report, &wallet_scope);
    assert_eq!(chain["ok"], false, "{report}");
    assert_eq!(
        (
            chain["first_broken"]["seq"].clone(),
            chain["first_broken"]["id"].clone()
        ),
        (json!(3), json!("(cut)"))
    );
    let (_, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(health["status"], "degraded");

    let user_chain = |report: &Value| scope(report, "user:hal")["entries"].as_u64().unwrap();
    let before = user_chain(&report);
    let (status, repaired) = hub.post("/api/debug/worm/reanchor", &ops, json!({})).await;
    assert_eq!(
        (status, repaired["ok"].clone()),
        (200, json!(true)),
        "{repaired}"
    );
    assert_eq!(
        user_chain(&repaired),
        before + 1,
        "one ledger.reanchor entry in the owner's chain"
    );
    assert!(
        repaired["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["scope"] == wallet_scope.as_str())
            .count()
            == 1,
        "no audit scope named like the wallet: {repaired}"
    );
    let (_, health) = hub
        .call(reqwest::Method::GET, "/api/health", None, None)
        .await;
    assert_eq!(health["status"], "healthy");
    // A second repair finds nothing to record.
    let (_, again) = hub.post("/api/debug/worm/reanchor", &ops, json!({})).await;
    assert_eq!(user_chain(&again), before + 1);
    hub.stop().await.unwrap();
}
