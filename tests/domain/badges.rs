//! Badges on both backends: every seeded rule both true and false through the events that feed
//! it, the rule validator behind the admin routes, awards that happen once (by rule, by the
//! hourly job, by hand) with their notification, XP and audit entry.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    seeded_badges_follow_their_rules,
    early_contributor_needs_the_first_ninety_days,
    the_rule_validator_guards_the_catalog,
    awards_happen_once_and_are_told,
    the_review_recount_moves_counts_to_the_reviewers,
);

fn admin() -> String {
    token("ops", AccountRole::Admin)
}

async fn event(hub: &TestHub, path: &str, body: Value) {
    let (status, answer) = hub
        .post(
            &format!("/api/v1/events/{path}"),
            &token("platform", AccountRole::System),
            body.clone(),
        )
        .await;
    assert_eq!(status, 201, "{path} {body}: {answer}");
}

async fn badges_of(hub: &TestHub, user: &str) -> Vec<String> {
    let (status, p) = hub
        .call(Method::GET, &format!("/api/v1/profiles/{user}"), None, None)
        .await;
    assert_eq!(status, 200, "{p}");
    p["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap().to_owned())
        .collect()
}

/// `reviewer` writes review `id` of `author`'s work.
async fn review(hub: &TestHub, id: &str, reviewer: &str, helpful: bool, agreed: bool) {
    event(
        hub,
        "review",
        json!({"review_id": id, "reviewer_id": reviewer, "user_id": format!("author-of-{reviewer}"),
               "helpful": helpful, "agreed": agreed, "quality": 4, "reviewer_trust": 100}),
    )
    .await;
}

async fn device_days(hub: &TestHub, user: &str, days: std::ops::Range<u32>) {
    for d in days {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
            + chrono::Duration::days(i64::from(d));
        event(
            hub,
            "device",
            json!({"user_id": user, "date": date.format("%Y-%m-%d").to_string(), "compliant": true}),
        )
        .await;
    }
}

async fn seeded_badges_follow_their_rules(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // Bug Hunter Bronze: 3 critical bugs (high ones do not count).
    for (i, severity) in ["critical", "critical", "high"].iter().enumerate() {
        event(
            &hub,
            "bug",
            json!({"bug_id": format!("b{i}"), "user_id": "hunter", "severity": severity}),
        )
        .await;
    }
    assert!(badges_of(&hub, "hunter").await.is_empty());
    event(
        &hub,
        "bug",
        json!({"bug_id": "b3", "user_id": "hunter", "severity": "critical"}),
    )
    .await;
    assert_eq!(badges_of(&hub, "hunter").await, ["bug_hunter_bronze"]);

    // Top Reviewer: 50 helpful reviews written, at least 80 % of them agreed with: the reviewer
    // earns it, not the author of the work reviewed.
    for i in 0..49 {
        review(&hub, &format!("ra{i}"), "rita", true, true).await;
    }
    assert!(badges_of(&hub, "rita").await.is_empty(), "49 helpful");
    review(&hub, "ra49", "rita", true, false).await;
    assert_eq!(
        badges_of(&hub, "rita").await,
        ["top_reviewer"],
        "50 helpful, 98 %"
    );
    assert!(
        badges_of(&hub, "author-of-rita").await.is_empty(),
        "the reviewed author"
    );
    for i in 0..50 {
        review(&hub, &format!("rb{i}"), "ross", true, i < 39).await;
    }
    assert!(badges_of(&hub, "ross").await.is_empty(), "50 helpful, 78 %");

    // Security Champion: KYC passed, 90 compliant device days, no violation.
    event(&hub, "kyc", json!({"user_id": "sam", "status": "PASSED"})).await;
    device_days(&hub, "sam", 0..89).await;
    event(
        &hub,
        "device",
        json!({"user_id": "sam", "date": "2026-12-31", "compliant": false}),
    )
    .await;
    assert!(badges_of(&hub, "sam").await.is_empty(), "89 compliant days");
    device_days(&hub, "sam", 89..90).await;
    assert_eq!(badges_of(&hub, "sam").await, ["security_champion"]);
    event(
        &hub,
        "violation",
        json!({"violation_id": "v1", "user_id": "sid", "kind": "sharing"}),
    )
    .await;
    event(&hub, "kyc", json!({"user_id": "sid", "status": "PASSED"})).await;
    device_days(&hub, "sid", 0..90).await;
    assert!(badges_of(&hub, "sid").await.is_empty(), "a violation");
    event(&hub, "kyc", json!({"user_id": "sue", "status": "PENDING"})).await;
    device_days(&hub, "sue", 0..90).await;
    assert!(badges_of(&hub, "sue").await.is_empty(), "KYC pending");

    // Community Builder: 10 endorsements averaging at least 4.0.
    hub.post(
        "/api/v1/skills",
        &admin(),
        json!({"name": "Sales", "category": "Business"}),
    )
    .await;
    let cleo = token("cleo", AccountRole::User);
    hub.post(
        "/api/v1/profiles/me/skills",
        &cleo,
        json!({"skill": "Sales"}),
    )
    .await;
    for i in 0..10 {
        let rating = if i == 0 { 3 } else { 4 };
        let (status, _) = hub
            .post(
                "/api/v1/profiles/me/endorse",
                &token(&format!("e{i}"), AccountRole::User),
                json!({"user_id": "cleo", "skill": "Sales", "rating": rating}),
            )
            .await;
        assert_eq!(status, 201);
    }
    assert!(
        badges_of(&hub, "cleo").await.is_empty(),
        "an average of 3.9"
    );
    hub.post(
        "/api/v1/profiles/me/endorse",
        &token("e10", AccountRole::User),
        json!({"user_id": "cleo", "skill": "Sales", "rating": 5}),
    )
    .await;
    assert_eq!(
        badges_of(&hub, "cleo").await,
        ["community_builder"],
        "44 / 11 = 4.0"
    );

    // Equity Pioneer comes from an approved conversion in the first window (tests/domain/equity.rs);
    // no event in awards it.
    let (_, catalog) = hub.call(Method::GET, "/api/v1/badges", None, None).await;
    let counts: Vec<(String, i64)> = catalog["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["code"].as_str().unwrap().to_owned(),
                b["awarded_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("bug_hunter_bronze".to_owned(), 1),
            ("community_builder".to_owned(), 1),
            ("early_contributor".to_owned(), 0),
            ("equity_pioneer".to_owned(), 0),
            ("security_champion".to_owned(), 1),
            ("top_reviewer".to_owned(), 1),
        ]
    );
    let pioneer = catalog["badges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "equity_pioneer")
        .unwrap();
    assert_eq!(
        pioneer["rule"],
        json!({"type": "THRESHOLD", "conditions": [{"metric": "firstWindowConversions", "op": "gte", "value": 1}]})
    );
    hub.stop().await.unwrap();
}

async fn early_contributor_needs_the_first_ninety_days(backend: Backend) {
    let clock = ManualClock::new(today_at(1));
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    for user in ["early", "late"] {
        hub.get("/api/v1/me", &token(user, AccountRole::User)).await;
    }
    let tasks = |user: &'static str, from: u32, to: u32| {
        let hub = &hub;
        async move {
            for i in from..to {
                event(
                    hub,
                    "task/accepted",
                    json!({"task_id": format!("{user}-{i}"), "user_id": user, "tier": "C",
                           "quality": 1.0, "reviewer_trust": 100}),
                )
                .await;
            }
        }
    };
    tasks("early", 0, 4).await;
    tasks("late", 0, 4).await;
    // 90 days after joining is still within; 91 is not.
    clock.advance(Duration::from_secs(90 * 86_400));
    tasks("early", 4, 5).await;
    assert_eq!(badges_of(&hub, "early").await, ["early_contributor"]);
    clock.advance(Duration::from_secs(86_400));
    tasks("late", 4, 6).await;
    assert!(badges_of(&hub, "late").await.is_empty());
    hub.stop().await.unwrap();
}

async fn the_rule_validator_guards_the_catalog(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let create = |body: Value| {
        let hub = &hub;
        async move { hub.post("/api/v1/badges", &admin(), body).await }
    };
    let good = json!({"type": "COMPOSITE", "any": [
        {"type": "THRESHOLD", "conditions": [{"metric": "criticalBugs", "op": "gte", "value": 10}]},
        {"type": "THRESHOLD", "conditions": [{"metric": "kycStatus", "op": "eq", "value": "PASSED"},
                                             {"metric": "tasksAccepted", "op": "gte", "value": 1}]}
    ]});
    for (rule, field) in [
        (json!({"type": "RANDOM"}), "rule.type"),
        (
            json!({"type": "THRESHOLD", "conditions": [{"metric": "karma", "op": "gte", "value": 1}]}),
            "rule.conditions[0].metric",
        ),
        (
            json!({"type": "THRESHOLD", "conditions": [{"metric": "criticalBugs", "op": "gt", "value": 1}]}),
            "rule.conditions[0].op",
        ),
        (
            json!({"type": "COMPOSITE", "all": [{"type": "THRESHOLD", "conditions": []}]}),
            "rule.all[0].conditions",
        ),
        (
            json!({"type": "COMPOSITE", "all": [{"type": "MANUAL"}]}),
            "rule.all",
        ),
    ] {
        let (status, err) = create(json!({"code": "x", "name": "X", "rule": rule})).await;
        assert_eq!(status, 400, "{err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{field}:")), "{message}");
    }
    for (body, field) in [
        (
            json!({"code": "Bad Code", "name": "X", "rule": {"type": "MANUAL"}}),
            "code",
        ),
        (
            json!({"code": "ok", "name": "", "rule": {"type": "MANUAL"}}),
            "name",
        ),
    ] {
        let (status, err) = create(body).await;
        assert_eq!(status, 400);
        assert!(err["error"]["message"].as_str().unwrap().starts_with(field));
    }
    let (status, badge) = create(json!({"code": "versatile", "name": "Versatile",
        "description": "Bugs or a first task after KYC", "rule": good}))
    .await;
    assert_eq!(status, 201, "{badge}");
    assert_eq!(badge["awarded_count"], 0);
    assert_eq!(
        create(json!({"code": "versatile", "name": "Again", "rule": {"type": "MANUAL"}}))
            .await
            .0,
        409
    );
    // The guide's own rule JSON: bare operators, bare conditions in COMPOSITE, MANUAL inside;
    // stored in the one form.
    let (status, badge) = create(json!({"code": "guide", "name": "Guide", "rule":
        {"type": "COMPOSITE", "all": [{"metric": "tasksAccepted", "gte": 2}, {"type": "MANUAL"}]}}))
    .await;
    assert_eq!(status, 201, "{badge}");
    assert_eq!(
        badge["rule"],
        json!({"type": "COMPOSITE", "all": [
            {"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 2}]},
            {"type": "MANUAL"}]})
    );
    // MANUAL in `all`: an admin may award it once the rest holds, never before; the rule never
    // awards it by itself.
    let award = |user: &str| {
        let body = json!({"user_id": user});
        let hub = &hub;
        async move { hub.post("/api/v1/badges/guide/award", &admin(), body).await }
    };
    let (status, err) = award("gus").await;
    assert_eq!(status, 409, "{err}");
    for t in ["g1", "g2"] {
        event(
            &hub,
            "task/accepted",
            json!({"task_id": t, "user_id": "gus", "tier": "C",
            "quality": 1.0, "reviewer_trust": 100}),
        )
        .await;
    }
    assert!(
        badges_of(&hub, "gus").await.iter().all(|b| b != "guide"),
        "not by itself"
    );
    let (status, awarded) = award("gus").await;
    assert!([200, 201].contains(&status), "{awarded}");
    assert_eq!(awarded["awarded"], true);
    // MANUAL in `any`: by hand whatever the rest.
    let (status, _) = create(json!({"code": "either", "name": "Either", "rule":
        {"type": "COMPOSITE", "any": [{"metric": "criticalBugs", "gte": 99}, {"type": "MANUAL"}]}}))
    .await;
    assert_eq!(status, 201);
    let (status, awarded) = hub
        .post(
            "/api/v1/badges/either/award",
            &admin(),
            json!({"user_id": "hal"}),
        )
        .await;
    assert!([200, 201].contains(&status), "{awarded}");

    // Only admins write the catalog.
    let (status, _) = hub
        .post(
            "/api/v1/badges",
            &token("alice", AccountRole::User),
            json!({"code": "mine", "name": "Mine", "rule": {"type": "MANUAL"}}),
        )
        .await;
    assert_eq!(status, 403);
    let patch = |code: &str, body: Value, who: String| {
        let path = format!("/api/v1/badges/{code}");
        let hub = &hub;
        async move { hub.call(Method::PATCH, &path, Some(&who), Some(body)).await }
    };
    let (status, err) = patch(
        "versatile",
        json!({"rule": {"type": "THRESHOLD", "conditions": [{"metric": "kycStatus", "op": "gte", "value": "PASSED"}]}}),
        admin(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("rule.conditions[0].op")
    );
    assert_eq!(patch("nope", json!({"name": "N"}), admin()).await.0, 404);
    assert_eq!(
        patch(
            "versatile",
            json!({"name": "N"}),
            token("alice", AccountRole::User)
        )
        .await
        .0,
        403
    );
    let (status, changed) = patch("versatile", json!({"name": "All-rounder"}), admin()).await;
    assert_eq!(
        (status, changed["name"].clone()),
        (200, json!("All-rounder"))
    );
    assert_eq!(changed["rule"]["type"], "COMPOSITE", "the rule is kept");
    hub.stop().await.unwrap();
}

async fn awards_happen_once_and_are_told(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // A user with a task, before a badge for it exists.
    event(&hub, "task/accepted", json!({"task_id": "t1", "user_id": "tom", "tier": "C", "quality": 1.0, "reviewer_trust": 100})).await;
    let (status, _) = hub
        .post(
            "/api/v1/badges",
            &admin(),
            json!({"code": "first_task", "name": "First Task",
                   "rule": {"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 1}]}}),
        )
        .await;
    assert_eq!(status, 201);
    assert!(badges_of(&hub, "tom").await.is_empty());
    let mut live = Sio::connect(hub.addr, &token("tom", AccountRole::User)).await;
    // The hourly job finds it; a second run awards nothing twice.
    for expected in [1, 0] {
        let (status, run) = hub
            .post("/api/debug/jobs/badges-hourly/run", &admin(), json!({}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(run["output"]["badges_awarded"], expected, "{run}");
    }
    let told = live
        .event_where("notification", |n| n["kind"] == "badge_awarded")
        .await;
    assert_eq!(told["data"]["code"], "first_task");
    assert_eq!(badges_of(&hub, "tom").await, ["first_task"]);
    // 12 XP for the task and 50 for the badge.
    let (_, p) = hub
        .call(Method::GET, "/api/v1/profiles/tom", None, None)
        .await;
    assert_eq!(p["xp"], 62);

    // By hand: 201 the first time, 200 and no change after.
    let award = |user: &str| {
        let body = json!({"user_id": user, "reason": "pioneer of the beta"});
        let hub = &hub;
        async move {
            hub.post("/api/v1/badges/equity_pioneer/award", &admin(), body)
                .await
        }
    };
    let (status, first) = award("tom").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["awarded"], true);
    assert_eq!(first["reason"], "pioneer of the beta");
    let (status, again) = award("tom").await;
    assert_eq!((status, again["awarded"].clone()), (200, json!(false)));
    assert_eq!(again["awarded_at"], first["awarded_at"]);
    let (_, p) = hub
        .call(Method::GET, "/api/v1/profiles/tom", None, None)
        .await;
    assert_eq!(p["xp"], 112);
    assert_eq!(award("not a user").await.0, 400);
    assert_eq!(
        hub.post(
            "/api/v1/badges/unknown/award",
            &admin(),
            json!({"user_id": "tom"})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        hub.post(
            "/api/v1/badges/equity_pioneer/award",
            &token("tom", AccountRole::User),
            json!({"user_id": "tom"})
        )
        .await
        .0,
        403
    );
    // On demand, for oneself.
    let (status, none) = hub
        .post(
            "/api/v1/badges/evaluate",
            &token("tom", AccountRole::User),
            json!({}),
        )
        .await;
    assert_eq!((status, none["awarded"].clone()), (200, json!([])));
    // Each award is in tom's audit chain, after the task event.
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    assert_eq!(report["ok"], true);
    let chain = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "user:tom")
        .cloned()
        .unwrap();
    assert_eq!(chain["entries"], 3);
    hub.stop().await.unwrap();
}

/// Migration 16 recounts reviews for their reviewers from the stored review events: run again
/// over counts kept the old way (for the reviewed author), it leaves each reviewer with the
/// reviews they wrote and the author with none.
async fn the_review_recount_moves_counts_to_the_reviewers(backend: Backend) {
    let hub = TestHub::start(backend).await;
    for (id, helpful, agreed) in [("r1", true, true), ("r2", true, false), ("r3", false, true)] {
        event(
            &hub,
            "review",
            json!({"review_id": id, "reviewer_id": "rae", "user_id": "abe", "helpful": helpful,
                   "agreed": agreed, "quality": 4, "reviewer_trust": 100}),
        )
        .await;
    }
    let mut conn = common::raw_db(&hub).await;
    // The counts as the old code kept them: on the author.
    sqlx::query("UPDATE user_stats SET reviews = 3, reviews_agreed = 2, helpful_reviews = 2 WHERE user_id = 'abe'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE user_stats SET reviews = 0, reviews_agreed = 0, helpful_reviews = 0 WHERE user_id = 'rae'")
        .execute(&mut conn)
        .await
        .unwrap();
    let recount = match backend {
        Backend::Postgres => include_str!("../../migrations/postgres/0016_reviews_by_reviewer.sql"),
        Backend::Sqlite => include_str!("../../migrations/sqlite/0016_reviews_by_reviewer.sql"),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(recount))
        .execute(&mut conn)
        .await
        .unwrap();
    for (user, counts) in [("rae", (3, 2, 2)), ("abe", (0, 0, 0))] {
        let got: (i64, i64, i64) = sqlx::query_as(
            "SELECT reviews, reviews_agreed, helpful_reviews FROM user_stats WHERE user_id = $1",
        )
        .bind(user)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(got, counts, "{user}");
    }
    hub.stop().await.unwrap();
}
