//! The WORM audit log on both backends: every venture, team, membership and document change is
//! recorded in its venture's chain; the database refuses to rewrite a row; a row changed behind
//! the hub's back (the test lifts the trigger, edits, restores it) is found at its exact entry,
//! health says so, and a reanchor records the break without rewriting anything. And the
//! `worm-integrity` job runs once per period across two nodes racing for it.

use crate::common;

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

// ---------------------------------------------------------------------------------------------
// The Merkle log: every audit and ledger entry is a leaf, checkpoints are signed and kept in the
// object store, and `hub audit verify` finds the first bad index of whatever was done behind
// the hub's back.

mod merkle_log {
    use super::admin;
    use super::common::{self, Backend, TestDb, TestHub};
    use hub_protocol::AccountRole;
    use hub_rooms::checkpoint::{Checkpoint, NoteSigner};
    use hub_rooms::merkle::{self, Frontier, Hash, LeafKind};
    use serde_json::{Value, json};
    use sqlx::Row;

    on_both_backends!(
        an_honest_log_verifies_and_its_proofs_check_out_elsewhere,
        a_row_edited_is_caught_at_its_index,
        a_consistent_rewrite_of_a_ledger_is_caught_at_its_first_changed_entry,
        a_consistent_rewrite_of_an_audit_scope_is_caught_at_its_first_changed_entry,
        an_entry_inserted_in_the_middle_is_caught_where_it_went_in,
        a_cut_tail_is_caught_and_the_hub_refuses_to_sign_again,
        a_truncated_audit_table_is_caught_at_its_first_entry,
        two_checkpoints_of_one_size_are_a_fork_caught_where_they_part,
        an_honest_log_of_100000_entries_verifies,
    );

    const FAILED: i32 = 1;

    /// A hub whose events credit BUZ, with some history: ten venture changes and four credits.
    async fn hub_with_history(backend: Backend) -> TestHub {
        let hub = TestHub::start_with(backend, common::lax_buz).await;
        super::ten_changes(&hub).await;
        for (task, user) in [
            ("T-1", "bob"),
            ("T-2", "bob"),
            ("T-3", "carol"),
            ("T-4", "bob"),
        ] {
            credit(&hub, task, user).await;
        }
        hub
    }

    async fn credit(hub: &TestHub, task: &str, user: &str) {
        let (status, answer) = hub
            .post(
                "/api/v1/events/task/accepted",
                &hub.token_with("platform", None, AccountRole::System),
                json!({"task_id": task, "user_id": user, "tier": "C", "quality": 1.0, "reviewer_trust": 100}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }

    /// Runs `audit-checkpoint` now; answers its output.
    async fn checkpoint(hub: &TestHub) -> Value {
        let (status, run) = hub
            .post(
                "/api/debug/jobs/audit-checkpoint/run",
                &admin(hub),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{run}");
        assert_eq!(run["result"], "ok", "{run}");
        run["output"].clone()
    }

    async fn public(hub: &TestHub, path: &str) -> (u16, String) {
        let res = hub.http.get(hub.url(path)).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn vkey(hub: &TestHub) -> String {
        let (status, body) = public(hub, "/api/v1/audit/key").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["vkey"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Where the hub keeps its checkpoints: the files' object store.
    fn store_dir(hub: &TestHub) -> String {
        hub.config.files.dir.display().to_string()
    }

    /// Runs `hub audit verify` against `hub`; its exit code and output.
    async fn verify(hub: &TestHub, extra: &[&str]) -> (i32, String) {
        let key = vkey(hub).await;
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
            .args(["audit", "verify", "--url", &hub.base, "--key", &key])
            .args(["--token", &admin(hub)])
            .args(extra)
            .output()
            .await
            .expect("run hub audit verify");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    async fn verify_full(hub: &TestHub) -> (i32, String) {
        let dir = store_dir(hub);
        verify(hub, &["--full", "--checkpoints", &dir]).await
    }

    fn assert_fails_at(outcome: (i32, String), index: i64) {
        let (code, text) = outcome;
        assert_eq!(code, FAILED, "{text}");
        assert!(
            text.contains(&format!("FAIL at index {index}:")),
            "expected the first bad index {index}:\n{text}"
        );
    }

    /// The log index of an entry, as the operators' API lists the leaves.
    async fn log_index(hub: &TestHub, kind: &str, chain: &str, seq: i64) -> i64 {
        let (status, page) = hub
            .get("/api/v1/audit/entries?from=0&limit=1000", &admin(hub))
            .await;
        assert_eq!(status, 200, "{page}");
        let wanted = match kind {
            "audit" => merkle::audit_leaf(chain, seq, ""),
            _ => merkle::ledger_leaf(chain, seq, ""),
        };
        // The leaf without its hash names the entry: compare all but the hash.
        let name = |leaf: &str| {
            let mut v: Value = serde_json::from_str(leaf).unwrap();
            v["hash"] = Value::Null;
            v
        };
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| name(e["leaf"].as_str().unwrap()) == name(&wanted))
            .unwrap_or_else(|| panic!("no leaf for {kind} {chain} {seq}"))["index"]
            .as_i64()
            .unwrap()
    }

    /// Runs `statements` with every guard of the database off, as its administrator could.
    async fn behind_the_hubs_back(hub: &TestHub, statements: &[String]) {
        let mut conn = common::raw_db(hub).await;
        match hub.db.backend {
            Backend::Postgres => {
                sqlx::query("SET session_replication_role = replica")
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Backend::Sqlite => {
                let triggers: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                for t in triggers {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}")))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
        }
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    fn lit(v: Option<&str>) -> String {
        v.map(|s| format!("'{}'", s.replace('\'', "''")))
            .unwrap_or_else(|| "NULL".into())
    }

    async fn audit_chain(hub: &TestHub, scope: &str) -> Vec<hub_rooms::audit::Entry> {
        let mut conn = common::raw_db(hub).await;
        let rows = sqlx::query(
            "SELECT id, scope, seq, ref_id, actor_id, action, details, created_at, prev_hash, hash
             FROM worm_audits WHERE scope = $1 ORDER BY seq",
        )
        .bind(scope)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.iter()
            .map(|r| hub_rooms::audit::Entry {
                id: r.get("id"),
                scope: r.get("scope"),
                seq: r.get("seq"),
                ref_id: r.get("ref_id"),
                actor_id: r.get("actor_id"),
                action: r.get("action"),
                details: serde_json::from_str(&r.get::<String, _>("details")).unwrap(),
                created_at: r.get("created_at"),
                prev_hash: r.get("prev_hash"),
                hash: r.get("hash"),
            })
            .collect()
    }

    /// Rewrites `scope`'s chain as `edit` leaves it, every seq, link and hash made consistent
    /// again and the head moved onto the new end: what a careful forger does.
    async fn rewrite_scope(
        hub: &TestHub,
        scope: &str,
        edit: impl FnOnce(&mut Vec<hub_rooms::audit::Entry>),
    ) {
        let mut chain = audit_chain(hub, scope).await;
        edit(&mut chain);
        let mut prev: Option<String> = None;
        let mut sql = vec![format!(
            "DELETE FROM worm_audits WHERE scope = {}",
            lit(Some(scope))
        )];
        for (i, e) in chain.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
            e.prev_hash = prev.clone();
            e.hash = hub_rooms::audit::expected_hash(e);
            prev = Some(e.hash.clone());
            sql.push(format!(
                "INSERT INTO worm_audits (id, scope, seq, ref_id, actor_id, action, details, created_at, prev_hash, hash) \
                 VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                lit(Some(&e.id)),
                lit(Some(&e.scope)),
                e.seq,
                lit(e.ref_id.as_deref()),
                lit(e.actor_id.as_deref()),
                lit(Some(&e.action)),
                lit(Some(&hub_rooms::audit::canonical_json(&e.details))),
                e.created_at,
                lit(e.prev_hash.as_deref()),
                lit(Some(&e.hash)),
            ));
        }
        let last = chain.last().unwrap();
        sql.push(format!(
            "UPDATE worm_heads SET seq = {}, hash = {} WHERE scope = {}",
            last.seq,
            lit(Some(&last.hash)),
            lit(Some(scope))
        ));
        behind_the_hubs_back(hub, &sql).await;
    }

    async fn venture_scope(hub: &TestHub) -> String {
        let mut conn = common::raw_db(hub).await;
        sqlx::query_scalar("SELECT scope FROM worm_audits WHERE scope LIKE 'venture:%' LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    async fn wallet_of(hub: &TestHub, user: &str) -> String {
        let mut conn = common::raw_db(hub).await;
        sqlx::query_scalar("SELECT id FROM wallets WHERE user_id = $1")
            .bind(user)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    async fn an_honest_log_verifies_and_its_proofs_check_out_elsewhere(backend: Backend) {
        // A witness that keeps what it is sent.
        let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let app = {
            let seen = seen.clone();
            axum::Router::new().route(
                "/add-checkpoint",
                axum::routing::post(move |body: String| {
                    let seen = seen.clone();
                    async move {
                        seen.lock().unwrap().push(body);
                        "\u{2014} witness AAAA\n"
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let witness = format!("http://{}/add-checkpoint", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let db = TestDb::new(backend).await;
        let hub = TestHub::start_on(db, |c| {
            common::lax_buz(c);
            c.audit_log.witnesses = vec![witness.clone()];
        })
        .await;
        super::ten_changes(&hub).await;
        credit(&hub, "T-1", "bob").await;

        // No checkpoint yet: the latest is 404, the list empty.
        let (status, _) = public(&hub, "/api/v1/audit/checkpoint").await;
        assert_eq!(status, 404);
        let first = checkpoint(&hub).await;
        assert_eq!(first["signed"], true, "{first}");
        let size = first["size"].as_u64().unwrap();
        // Ten audit entries, a ledger entry and whatever audit the credit made.
        assert!(size >= 11, "{first}");
        assert_eq!(first["witnesses"][0]["status"], 200, "{first}");
        // Nothing grew: nothing new is signed.
        assert_eq!(checkpoint(&hub).await["signed"], false);

        // The checkpoint is public and opens with the published key.
        let (status, note) = public(&hub, "/api/v1/audit/checkpoint").await;
        assert_eq!(status, 200);
        let key: Value = serde_json::from_str(&public(&hub, "/api/v1/audit/key").await.1).unwrap();
        let verifier =
            hub_rooms::checkpoint::NoteVerifier::parse(key["vkey"].as_str().unwrap()).unwrap();
        let body = Checkpoint::parse(verifier.open(&note).unwrap()).unwrap();
        assert_eq!(body.size, size);
        assert_eq!(body.origin, hub.config.audit_log.origin);
        // It lives in the object store, with its leaves.
        let dir = hub.config.files.dir.join("audit");
        assert!(dir.join("checkpoints").read_dir().unwrap().count() == 1);
        let leaves_file = dir
            .join("leaves")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let leaves: Vec<Hash> = std::fs::read(&leaves_file)
            .unwrap()
            .chunks(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        assert_eq!(leaves.len() as u64, size);
        assert_eq!(merkle::root_of(&leaves), body.root);

        // Entries and proofs are for operators; the proofs check out here.
        let ops = admin(&hub);
        let (status, _) = hub
            .get("/api/v1/audit/entries/0", &hub.token("alice"))
            .await;
        assert_eq!(status, 403);
        let (status, e0) = hub.get("/api/v1/audit/entries/0", &ops).await;
        assert_eq!(status, 200, "{e0}");
        assert_eq!(e0["kind"], "audit");
        assert_eq!(e0["audit"]["action"], "venture.created");
        let leaf0 = merkle::leaf_hash(e0["leaf"].as_str().unwrap().as_bytes());
        assert_eq!(leaf0, leaves[0]);
        let (status, p) = hub
            .get(
                &format!("/api/v1/audit/proof/inclusion?index=3&size={size}"),
                &ops,
            )
            .await;
        assert_eq!(status, 200, "{p}");
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64(h))
            .collect();
        assert!(merkle::verify_inclusion(
            &leaves[3], 3, size, &proof, &body.root
        ));
        for bad in [
            format!("/api/v1/audit/proof/inclusion?index={size}&size={size}"),
            format!("/api/v1/audit/proof/inclusion?index=0&size={}", size + 1),
            "/api/v1/audit/proof/consistency?from=0".to_owned(),
            "/api/v1/audit/entries?limit=0".to_owned(),
        ] {
            let (status, body) = hub.get(&bad, &ops).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        let (status, _) = hub
            .get(&format!("/api/v1/audit/entries/{size}"), &ops)
            .await;
        assert_eq!(status, 404);

        // The verifier: all holds, and it keeps what it trusted.
        let state = tempfile::NamedTempFile::new().unwrap();
        let state_path = state.path().display().to_string();
        std::fs::remove_file(&state_path).unwrap();
        let (code, text) = verify(
            &hub,
            &[
                "--full",
                "--checkpoints",
                &store_dir(&hub),
                "--state",
                &state_path,
            ],
        )
        .await;
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains(&format!("OK: the log of {size} entries verifies")),
            "{text}"
        );
        let trusted: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
        assert_eq!(trusted["size"], size);

        // The log grows; the next checkpoint extends the last one, as the witness is shown.
        credit(&hub, "T-2", "carol").await;
        super::ten_changes(&hub).await;
        let second = checkpoint(&hub).await;
        let size2 = second["size"].as_u64().unwrap();
        assert!(size2 > size);
        let told = seen.lock().unwrap().clone();
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(told[0].starts_with("old 0\n\n"), "{}", told[0]);
        let (head, note2) = told[1].split_once("\n\n").unwrap();
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some(format!("old {size}").as_str()));
        let proof: Vec<Hash> = lines.map(|l| b64(&json!(l))).collect();
        let body2 = Checkpoint::parse(verifier.open(note2).unwrap()).unwrap();
        assert!(merkle::verify_consistency(
            size,
            size2,
            &body.root,
            &body2.root,
            &proof
        ));
        // The list pages by size, largest first.
        let (status, page) = public(&hub, "/api/v1/audit/checkpoints?limit=1").await;
        assert_eq!(status, 200);
        let page: Value = serde_json::from_str(&page).unwrap();
        assert_eq!(page["checkpoints"].as_array().unwrap().len(), 1, "{page}");
        assert_eq!(page["checkpoints"][0]["size"], size2);
        assert_eq!(page["has_more"], true);
        let (_, older) = public(
            &hub,
            &format!("/api/v1/audit/checkpoints?limit=1&before={size2}"),
        )
        .await;
        let older: Value = serde_json::from_str(&older).unwrap();
        assert_eq!(older["checkpoints"][0]["size"], size, "{older}");
        assert_eq!(older["has_more"], false);
        let (status, _) = public(&hub, "/api/v1/audit/checkpoints?limit=0").await;
        assert_eq!(status, 422);
        // Through the API only (no object store), from the state the verifier kept.
        let (code, text) = verify(&hub, &["--state", &state_path]).await;
        assert_eq!(code, 0, "{text}");
        let trusted: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
        assert_eq!(trusted["size"], size2);
        // With the object store alone, no hub at all.
        let key = vkey(&hub).await;
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
            .args([
                "audit",
                "verify",
                "--key",
                &key,
                "--checkpoints",
                &store_dir(&hub),
            ])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // A wrong key opens nothing: the verifier cannot vouch for anything.
        let other = NoteSigner::new("someone-else", &[7u8; 32]).unwrap().vkey();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub"))
            .args([
                "audit",
                "verify",
                "--key",
                &other,
                "--checkpoints",
                &store_dir(&hub),
            ])
            .output()
            .await
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(FAILED),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // Code this project did not write agrees: Node's Ed25519 and an RFC 9162 library.
        let out = common::node::run_node(
            "audit-interop.mjs",
            &[("HUB", hub.base.clone()), ("TOKEN", ops.clone())],
        )
        .await;
        let report: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_eq!(report["size"], size2, "{report}");
        assert_eq!(report["signatureOk"], true, "{report}");
        assert_eq!(report["forgedRejected"], true, "{report}");
        assert_eq!(report["rootOk"], true, "{report}");
        assert_eq!(report["inclusion"], report["inclusionChecked"], "{report}");
        assert!(report["inclusion"].as_u64().unwrap() >= 4, "{report}");
        assert_eq!(
            report["inclusionTamperedRejected"], report["inclusionChecked"],
            "{report}"
        );
        assert_eq!(
            report["consistency"], report["consistencyChecked"],
            "{report}"
        );
        assert_eq!(
            report["consistencyTamperedRejected"], report["consistencyChecked"],
            "{report}"
        );
        hub.stop().await.unwrap();
    }

    fn b64(v: &Value) -> Hash {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    }

    async fn a_row_edited_is_caught_at_its_index(backend: Backend) {
        let hub = hub_with_history(backend).await;
        checkpoint(&hub).await;
        assert_eq!(verify_full(&hub).await.0, 0);
        let scope = venture_scope(&hub).await;
        let at = log_index(&hub, "audit", &scope, 4).await;
        behind_the_hubs_back(
            &hub,
            &[format!(
                "UPDATE worm_audits SET details = '{{\"role\":\"owner\"}}' WHERE scope = {} AND seq = 4",
                lit(Some(&scope))
            )],
        )
        .await;
        let outcome = verify_full(&hub).await;
        assert!(
            outcome.1.contains("hash does not match its content"),
            "{}",
            outcome.1
        );
        assert_fails_at(outcome, at);
        hub.stop().await.unwrap();
    }

    async fn a_consistent_rewrite_of_a_ledger_is_caught_at_its_first_changed_entry(
        backend: Backend,
    ) {
        let hub = hub_with_history(backend).await;
        checkpoint(&hub).await;
        let wallet = wallet_of(&hub, "bob").await;
        let at = log_index(&hub, "ledger", &wallet, 2).await;
        // +1,000 BUZ minted into bob's second credit, every later balance and hash made to fit.
        let mut conn = common::raw_db(&hub).await;
        let rows = sqlx::query(
            "SELECT id, seq, type, amount, balance_after, task_id, review_id, conversion_id, note, created_at
             FROM wallet_ledgers WHERE wallet_id = $1 ORDER BY seq",
        )
        .bind(&wallet)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(rows.len() >= 3);
        let mut sql = vec![format!(
            "DELETE FROM wallet_ledgers WHERE wallet_id = {}",
            lit(Some(&wallet))
        )];
        let mut prev: Option<String> = None;
        let mut last = (0i64, 0i64, String::new());
        for r in &rows {
            let seq: i64 = r.get("seq");
            let minted = if seq >= 2 { 1000 } else { 0 };
            let mut e = hub_rooms::wallets::Entry {
                id: r.get("id"),
                wallet_id: wallet.clone(),
                seq,
                kind: r.get("type"),
                amount: r.get::<i64, _>("amount") + if seq == 2 { 1000 } else { 0 },
                balance_after: r.get::<i64, _>("balance_after") + minted,
                task_id: r.get("task_id"),
                review_id: r.get("review_id"),
                conversion_id: r.get("conversion_id"),
                note: r.get("note"),
                created_at: r.get("created_at"),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = hub_rooms::wallets::expected_hash(&e);
            prev = Some(e.hash.clone());
            last = (e.seq, e.balance_after, e.hash.clone());
            sql.push(format!(
                "INSERT INTO wallet_ledgers (id, wallet_id, seq, type, amount, balance_after, task_id, review_id, conversion_id, note, created_at, prev_hash, hash) \
                 VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                lit(Some(&e.id)), lit(Some(&wallet)), e.seq, lit(Some(&e.kind)), e.amount, e.balance_after,
                lit(e.task_id.as_deref()), lit(e.review_id.as_deref()), lit(e.conversion_id.as_deref()),
                lit(e.note.as_deref()), e.created_at, lit(e.prev_hash.as_deref()), lit(Some(&e.hash)),
            ));
        }
        sql.push(format!(
            "UPDATE wallets SET buz_balance = {}, head_hash = {} WHERE id = {}",
            last.1,
            lit(Some(&last.2)),
            lit(Some(&wallet))
        ));
        behind_the_hubs_back(&hub, &sql).await;
        // The hub's own walk of the chain sees nothing wrong: only the log can tell.
        let (status, walked) = hub.get("/api/v1/wallet/me/verify", &hub.token("bob")).await;
        assert_eq!(status, 200, "{walked}");
        assert_eq!(walked["ok"], true, "{walked}");
        let outcome = verify_full(&hub).await;
        assert!(
            outcome
                .1
                .contains("does not make the leaf its checkpoint signed"),
            "{}",
            outcome.1
        );
        assert_fails_at(outcome, at);
        hub.stop().await.unwrap();
    }

    async fn a_consistent_rewrite_of_an_audit_scope_is_caught_at_its_first_changed_entry(
        backend: Backend,
    ) {
        let hub = hub_with_history(backend).await;
        checkpoint(&hub).await;
        let scope = venture_scope(&hub).await;
        let at = log_index(&hub, "audit", &scope, 4).await;
        // bob was made admin (seq 4): the history now says owner.
        rewrite_scope(&hub, &scope, |chain| {
            assert_eq!(chain[3].action, "member.role_changed");
            chain[3].details = json!({"role": "owner", "user_id": "bob"});
        })
        .await;
        let report = super::integrity(&hub).await;
        assert_eq!(report["ok"], true, "the chain itself holds: {report}");
        assert_fails_at(verify_full(&hub).await, at);
        hub.stop().await.unwrap();
    }

    async fn an_entry_inserted_in_the_middle_is_caught_where_it_went_in(backend: Backend) {
        let hub = hub_with_history(backend).await;
        checkpoint(&hub).await;
        let scope = venture_scope(&hub).await;
        let at = log_index(&hub, "audit", &scope, 3).await;
        rewrite_scope(&hub, &scope, |chain| {
            let mut forged = chain[2].clone();
            forged.id = "forged".into();
            forged.action = "member.role_changed".into();
            forged.details = json!({"role": "owner", "user_id": "mallory"});
            chain.insert(2, forged);
        })
        .await;
        assert_fails_at(verify_full(&hub).await, at);
        hub.stop().await.unwrap();
    }

    async fn a_cut_tail_is_caught_and_the_hub_refuses_to_sign_again(backend: Backend) {
        let hub = hub_with_history(backend).await;
        let size = checkpoint(&hub).await["size"].as_i64().unwrap();
        // The last commit's entries go, with their leaves; the log's head is made to fit.
        let mut conn = common::raw_db(&hub).await;
        let commits: Vec<(i64, String)> =
            sqlx::query_as("SELECT first_idx, leaves FROM audit_log ORDER BY first_idx")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let (keep, last) = commits.last().cloned().unwrap();
        assert!(keep < size);
        let mut edge = Frontier::default();
        for (_, leaves) in &commits[..commits.len() - 1] {
            let leaves: Vec<(String, String, i64, String)> = serde_json::from_str(leaves).unwrap();
            for (kind, chain, seq, hash) in leaves {
                let leaf = merkle::leaf_of(LeafKind::parse(&kind).unwrap(), &chain, seq, &hash);
                edge.push(merkle::leaf_hash(leaf.as_bytes()));
            }
        }
        assert_eq!(edge.size() as i64, keep);
        let peaks: String = edge.peaks().iter().map(hex::encode).collect();
        let mut sql = vec![
            format!("DELETE FROM audit_log WHERE first_idx >= {keep}"),
            format!("UPDATE audit_log_head SET size = {keep}, peaks = '{peaks}'"),
        ];
        let cut: Vec<(String, String, i64, String)> = serde_json::from_str(&last).unwrap();
        for (kind, chain, seq, _) in cut {
            sql.push(match kind.as_str() {
                "audit" => format!(
                    "DELETE FROM worm_audits WHERE scope = {} AND seq = {seq}",
                    lit(Some(&chain))
                ),
                _ => format!(
                    "DELETE FROM wallet_ledgers WHERE wallet_id = {} AND seq = {seq}",
                    lit(Some(&chain))
                ),
            });
        }
        behind_the_hubs_back(&hub, &sql).await;
        let outcome = verify_full(&hub).await;
        assert!(outcome.1.contains("fewer than the"), "{}", outcome.1);
        assert_fails_at(outcome, keep);
        // The hub will not sign a log shorter than its last checkpoint, and says so.
        let (status, run) = hub
            .post(
                "/api/debug/jobs/audit-checkpoint/run",
                &admin(&hub),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(run["result"], "failed", "{run}");
        assert!(
            run["error"].as_str().unwrap().contains("fewer than"),
            "{run}"
        );
        let (_, health) = public(&hub, "/api/health").await;
        let health: Value = serde_json::from_str(&health).unwrap();
        assert_eq!(health["status"], "degraded", "{health}");
        assert!(
            health["reason"]
                .as_str()
                .unwrap()
                .contains("checkpoints stopped"),
            "{health}"
        );
        hub.stop().await.unwrap();
    }

    async fn a_truncated_audit_table_is_caught_at_its_first_entry(backend: Backend) {
        let hub = hub_with_history(backend).await;
        checkpoint(&hub).await;
        let (_, page) = hub
            .get("/api/v1/audit/entries?from=0&limit=1000", &admin(&hub))
            .await;
        let first = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "audit")
            .unwrap()["index"]
            .as_i64()
            .unwrap();
        let sql = match backend {
            Backend::Postgres => "TRUNCATE worm_audits, worm_heads",
            Backend::Sqlite => "DELETE FROM worm_audits",
        };
        behind_the_hubs_back(&hub, &[sql.to_owned()]).await;
        let outcome = verify_full(&hub).await;
        assert!(
            outcome.1.contains("entry of this leaf is gone"),
            "{}",
            outcome.1
        );
        assert_fails_at(outcome, first);
        hub.stop().await.unwrap();
    }

    async fn two_checkpoints_of_one_size_are_a_fork_caught_where_they_part(backend: Backend) {
        let hub = hub_with_history(backend).await;
        let size = checkpoint(&hub).await["size"].as_u64().unwrap();
        // Someone with the key signs another history of the same size: leaf 5 differs.
        let dir = hub.config.files.dir.join("audit");
        let honest = dir
            .join("leaves")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut leaves: Vec<Hash> = std::fs::read(honest)
            .unwrap()
            .chunks(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        leaves[5] = merkle::leaf_hash(b"{\"forged\":true}");
        let root = merkle::root_of(&leaves);
        let signer = NoteSigner::parse(&hub.config.audit_log.key).unwrap();
        let note = signer
            .sign(
                &Checkpoint {
                    origin: hub.config.audit_log.origin.clone(),
                    size,
                    root,
                    extensions: vec![],
                }
                .body(),
            )
            .unwrap();
        let hex_root = hex::encode(root);
        std::fs::write(dir.join(format!("checkpoints/{size:020}-{hex_root}")), note).unwrap();
        std::fs::write(
            dir.join(format!("leaves/{:020}-{size:020}-{hex_root}", 0)),
            leaves.concat(),
        )
        .unwrap();
        let outcome = verify(&hub, &["--checkpoints", &store_dir(&hub)]).await;
        assert!(outcome.1.contains("fork"), "{}", outcome.1);
        assert_fails_at(outcome, 5);
        // A page holds every checkpoint of its last size: the fork is never split.
        let (_, page) = public(&hub, "/api/v1/audit/checkpoints?limit=1").await;
        let page: Value = serde_json::from_str(&page).unwrap();
        assert_eq!(page["checkpoints"].as_array().unwrap().len(), 2, "{page}");
        // Through the API alone the verifier sees the fork too.
        let (code, text) = verify(&hub, &[]).await;
        assert_eq!(code, FAILED, "{text}");
        assert!(text.contains("fork"), "{text}");
        // The hub sees it too, and signs nothing more.
        credit(&hub, "T-9", "bob").await;
        let (_, run) = hub
            .post(
                "/api/debug/jobs/audit-checkpoint/run",
                &admin(&hub),
                json!({}),
            )
            .await;
        assert_eq!(run["result"], "failed", "{run}");
        hub.stop().await.unwrap();
    }

    async fn an_honest_log_of_100000_entries_verifies(backend: Backend) {
        const ENTRIES: usize = 100_000;
        let db = TestDb::new(backend).await;
        {
            let store = hub::store::Store::connect(&db.url, 2).await.unwrap();
            store.migrate().await.unwrap();
            for batch in 0..ENTRIES / 2000 {
                let mut w = store.begin_write().await.unwrap();
                for i in 0..2000 {
                    let n = batch * 2000 + i;
                    store
                        .audit(
                            &mut w,
                            hub::store::NewAudit {
                                scope: format!("user:u{}", n % 50),
                                ref_id: None,
                                actor_id: Some("loader"),
                                action: "test.entry",
                                details: json!({"n": n}),
                            },
                        )
                        .await
                        .unwrap();
                }
                w.commit().await.unwrap();
            }
        }
        let hub = TestHub::start_on(db, |_| {}).await;
        let out = checkpoint(&hub).await;
        assert_eq!(out["size"], ENTRIES as u64, "{out}");
        let (code, text) = verify_full(&hub).await;
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains(&format!("{ENTRIES} entries re-hashed")),
            "{text}"
        );
        // Proofs of a large tree reach through its stored nodes.
        let (status, p) = hub
            .get(
                &format!("/api/v1/audit/proof/inclusion?index=77777&size={ENTRIES}"),
                &admin(&hub),
            )
            .await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["proof"].as_array().unwrap().len(), 17);
        let (status, c) = hub
            .get("/api/v1/audit/proof/consistency?from=65537", &admin(&hub))
            .await;
        assert_eq!(status, 200, "{c}");
        let proof: Vec<Hash> = c["proof"].as_array().unwrap().iter().map(b64).collect();
        assert!(merkle::verify_consistency(
            65537,
            ENTRIES as u64,
            &b64(&c["from_root"]),
            &b64(&c["to_root"]),
            &proof
        ));
        hub.stop().await.unwrap();
    }
}
