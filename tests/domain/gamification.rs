//! XP, levels, reputation and leaderboards on both backends, on the hub's manual clock: every
//! XP rule from events in, level-ups told live, 30 simulated days of reputation against a
//! hand-computed table (a quiet user stays at 0, an active one decays once quiet), the job's
//! 02:00 UTC schedule, and leaderboards read and pushed live.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    every_xp_rule_and_the_level_table_hold,
    reputation_over_thirty_days_matches_the_hand_computed_table,
    leaderboards_rank_members_and_are_pushed_live,
);

const DAY_MS: i64 = 86_400_000;

async fn event(hub: &TestHub, path: &str, body: Value) -> Value {
    let (status, answer) = hub
        .post(
            &format!("/api/v1/events/{path}"),
            &token("platform", AccountRole::System),
            body.clone(),
        )
        .await;
    assert_eq!(status, 201, "{path} {body}: {answer}");
    answer
}

async fn task(hub: &TestHub, id: &str, user: &str, tier: &str, quality: f64, trust: f64) {
    event(
        hub,
        "task/accepted",
        json!({"task_id": id, "user_id": user, "tier": tier, "quality": quality, "reviewer_trust": trust}),
    )
    .await;
}

async fn profile(hub: &TestHub, user: &str) -> Value {
    let (status, body) = hub
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/profiles/{user}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn every_xp_rule_and_the_level_table_hold(backend: Backend) {
    let clock = ManualClock::new(today_at(3));
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    let dee = token("dee", AccountRole::User);
    let mut live = Sio::connect(hub.addr, &dee).await;
    // Tasks: round(base × quality × clamp(sqrt(trust/100), 0.7, 1.1)).
    let mut expected = 0;
    for (i, (tier, quality, trust, xp)) in [
        ("C", 0.6, 25.0, 5),    // 12 × 0.6 × 0.7 = 5.04
        ("B", 0.6, 81.0, 11),   // 20 × 0.6 × 0.9 = 10.8
        ("A", 1.4, 81.0, 50),   // 40 × 1.4 × 0.9 = 50.4
        ("S", 1.0, 100.0, 100), // 100
        ("S", 1.4, 144.0, 154), // 100 × 1.4 × 1.1
    ]
    .into_iter()
    .enumerate()
    {
        task(&hub, &format!("t{i}"), "dee", tier, quality, trust).await;
        expected += xp;
        // The fifth brings Early Contributor too (below).
        let badge = if i == 4 { 50 } else { 0 };
        assert_eq!(
            profile(&hub, "dee").await["xp"],
            expected + badge,
            "after {tier} {quality} {trust}"
        );
    }
    assert_eq!(expected, 320);
    // 5 + 11 + 50 = 66, then 166 (level 2), then 320 (level 3): two level-ups, told live. The
    // fifth task within 90 days of joining also brought Early Contributor and its 50 XP.
    let up = live
        .event_where("notification", |n| n["kind"] == "level_up")
        .await;
    assert_eq!(
        up["data"],
        json!({"level": 2, "previous_level": 1, "xp": 166})
    );
    let up = live
        .event_where("notification", |n| n["kind"] == "level_up")
        .await;
    assert_eq!(
        up["data"],
        json!({"level": 3, "previous_level": 2, "xp": 320})
    );
    let badge = live
        .event_where("notification", |n| n["kind"] == "badge_awarded")
        .await;
    assert_eq!(
        badge["data"],
        json!({"code": "early_contributor", "name": "Early Contributor", "reason": "rule", "xp": 50})
    );
    expected += 50;
    let p = profile(&hub, "dee").await;
    assert_eq!(p["xp"], 370);
    assert_eq!(
        (p["level"].clone(), p["next_level_xp"].clone()),
        (json!(3), json!(500))
    );
    // A replayed task earns nothing more.
    let (status, _) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token("platform", AccountRole::System),
            json!({"task_id": "t4", "user_id": "dee", "tier": "S", "quality": 1.4, "reviewer_trust": 144}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(profile(&hub, "dee").await["xp"], 370);

    // Reviews: round(5 × clamp(trust/100, 0.5, 1.5)) when helpful, nothing when not.
    for (i, (helpful, trust, xp)) in [
        (true, 0.0, 3),    // 2.5 → 3
        (true, 130.0, 7),  // 6.5 → 7
        (true, 200.0, 8),  // 7.5 → 8
        (false, 200.0, 0), // not helpful
        (true, 100.0, 5),
    ]
    .into_iter()
    .enumerate()
    {
        event(
            &hub,
            "review",
            json!({"review_id": format!("r{i}"), "reviewer_id": "rev", "user_id": "dee",
                   "helpful": helpful, "agreed": true, "quality": 4, "reviewer_trust": trust}),
        )
        .await;
        expected += xp;
        assert_eq!(profile(&hub, "dee").await["xp"], expected);
    }
    assert_eq!(expected, 393);
    // A badge awarded by hand: +50.
    let admin = token("ops", AccountRole::Admin);
    let (status, award) = hub
        .post(
            "/api/v1/badges/equity_pioneer/award",
            &admin,
            json!({"user_id": "dee", "reason": "first in"}),
        )
        .await;
    assert_eq!(status, 201, "{award}");
    assert_eq!(profile(&hub, "dee").await["xp"], 443);
    // Bugs, KYC, devices and violations bring no XP.
    event(
        &hub,
        "bug",
        json!({"bug_id": "b1", "user_id": "dee", "severity": "critical"}),
    )
    .await;
    event(&hub, "kyc", json!({"user_id": "dee", "status": "PASSED"})).await;
    assert_eq!(profile(&hub, "dee").await["xp"], 443);

    // The level table, crossing each boundary: 4400 XP is level 10, with no next level.
    let mut xp = 443;
    let mut n = 0;
    for (target, level, next) in [
        (500, 4, Some(900)),
        (900, 5, Some(1400)),
        (1400, 6, Some(2000)),
        (2000, 7, Some(2700)),
        (2700, 8, Some(3500)),
        (3500, 9, Some(4400)),
        (4400, 10, None),
    ] {
        while xp < target {
            // 100 XP per S task at quality 1, trust 100.
            task(&hub, &format!("lv{n}"), "dee", "S", 1.0, 100.0).await;
            xp += 100;
            n += 1;
        }
        let p = profile(&hub, "dee").await;
        assert_eq!(p["xp"], xp);
        assert_eq!(p["level"], level, "{xp} XP");
        assert_eq!(p["next_level_xp"], json!(next));
    }
    hub.stop().await.unwrap();
}

/// The hand-computed table: rep(t+1) = floor(0.995 × rep(t)) + min(50, gain) in thousandths,
/// with ann's gains 10 (day 0: 100 XP), 6.7 (day 1: 67 XP), 0.2 (day 2: 1 XP and an
/// endorsement of weight 0.5), 25 (day 3: a badge, 50 XP + 20), 50 (day 4: capped), then
/// nothing.
const ANN: [i64; 30] = [
    10000, 16650, 16766, 41682, 91473, 91015, 90559, 90106, 89655, 89206, 88759, 88315, 87873,
    87433, 86995, 86560, 86127, 85696, 85267, 84840, 84415, 83992, 83572, 83154, 82738, 82324,
    81912, 81502, 81094, 80688,
];

async fn reputation_over_thirty_days_matches_the_hand_computed_table(backend: Backend) {
    let start = today_at(3);
    let clock = ManualClock::new(start);
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    let admin = token("ops", AccountRole::Admin);
    // Everyone is first seen on day 0.
    for user in ["ann", "bea", "cal"] {
        let (status, _) = hub.get("/api/v1/me", &token(user, AccountRole::User)).await;
        assert_eq!(status, 200);
    }
    // The job is due at 02:00 UTC, the next day.
    let (_, health) = hub.get("/api/debug/jobs/health", &admin).await;
    let job = health["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "reputation-daily")
        .cloned()
        .unwrap();
    assert_eq!(job["schedule"], "daily at 02:00 UTC");
    assert_eq!(
        job["next_run"],
        hub::store::rfc3339(start + DAY_MS - 3_600_000)
    );

    let (status, _) = hub
        .post(
            "/api/v1/skills",
            &admin,
            json!({"name": "Rust", "category": "Engineering"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = hub
        .post(
            "/api/v1/profiles/me/skills",
            &token("ann", AccountRole::User),
            json!({"skill": "rust"}),
        )
        .await;
    assert_eq!(status, 201);

    for day in 0..30usize {
        match day {
            0 => task(&hub, "a0", "ann", "S", 1.0, 100.0).await, // 100 XP
            1 => {
                event(
                    &hub,
                    "review",
                    json!({"review_id": "r1", "reviewer_id": "x", "user_id": "ann", "helpful": true,
                           "agreed": true, "quality": 5, "reviewer_trust": 100}),
                )
                .await; // 5 XP
                task(&hub, "a1", "ann", "A", 1.4, 144.0).await; // 62 XP
            }
            2 => {
                let (status, e) = hub
                    .post(
                        "/api/v1/profiles/me/endorse",
                        &token("bea", AccountRole::User),
                        json!({"user_id": "ann", "skill": "Rust", "rating": 5}),
                    )
                    .await;
                assert_eq!(status, 201, "{e}");
                assert_eq!(
                    (e["weight"].clone(), e["xp"].clone()),
                    (json!(0.5), json!(1))
                );
            }
            3 => {
                let (status, _) = hub
                    .post(
                        "/api/v1/badges/equity_pioneer/award",
                        &admin,
                        json!({"user_id": "ann"}),
                    )
                    .await;
                assert_eq!(status, 201);
            }
            4 => {
                for i in 0..4 {
                    task(&hub, &format!("a4-{i}"), "ann", "S", 1.4, 144.0).await; // 154 XP each
                }
            }
            _ => {}
        }
        clock.advance(Duration::from_millis(DAY_MS as u64));
        let (status, run) = hub
            .post("/api/debug/jobs/reputation-daily/run", &admin, json!({}))
            .await;
        assert_eq!(status, 200, "{run}");
        assert_eq!(run["result"], "ok", "{run}");
        let ann = profile(&hub, "ann").await;
        assert_eq!(
            ann["rep_score"].as_f64().unwrap(),
            ANN[day] as f64 / 1000.0,
            "ann after day {day}"
        );
        assert_eq!(
            profile(&hub, "cal").await["rep_score"],
            0.0,
            "cal never did anything"
        );
        // A second run the same day folds nothing twice.
        if day == 3 {
            hub.post("/api/debug/jobs/reputation-daily/run", &admin, json!({}))
                .await;
            assert_eq!(
                profile(&hub, "ann").await["rep_score"].as_f64().unwrap(),
                ANN[3] as f64 / 1000.0
            );
        }
    }
    // Early Contributor came by itself on day 4 (6 tasks within 90 days): 100 + 67 + 1 + 50 +
    // 616 + 50 XP.
    let ann = profile(&hub, "ann").await;
    assert_eq!(ann["xp"], 884);
    let codes: Vec<&str> = ann["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["equity_pioneer", "early_contributor"]);
    assert_eq!(ann["rep_score"], 80.688);
    hub.stop().await.unwrap();
}

async fn leaderboards_rank_members_and_are_pushed_live(backend: Backend) {
    let clock = ManualClock::new(today_at(3));
    let hub = hub_on_clock(backend, &clock, |c| {
        c.gamification.leaderboard_throttle = Duration::from_millis(200);
    })
    .await;
    let alice = token("alice", AccountRole::User);
    let (_, v) = hub
        .post("/api/v1/ventures", &alice, json!({"name": "Acme"}))
        .await;
    let venture = v["id"].as_str().unwrap().to_owned();
    for user in ["bob", "cat"] {
        hub.add_member(&venture, "alice", user, "member").await;
    }
    let mut watcher = Sio::connect(hub.addr, &alice).await;
    watcher.join(&format!("venture:{venture}")).await;
    task(&hub, "b1", "bob", "A", 1.0, 100.0).await; // bob 40
    let pushed = watcher
        .event_where("leaderboard", |b| {
            b["by"] == "xp" && b["entries"][0]["user_id"] == "bob"
        })
        .await;
    assert_eq!(pushed["venture_id"], venture);
    task(&hub, "c1", "cat", "A", 1.0, 100.0).await; // cat 40
    task(&hub, "a1", "alice", "S", 1.0, 100.0).await; // alice 100
    // Several changes within the throttle period: the last one still gets out.
    let last = watcher
        .event_where("leaderboard", |b| b["entries"][0]["user_id"] == "alice")
        .await;
    let lines: Vec<(u64, &str, i64)> = last["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_u64().unwrap(),
                e["user_id"].as_str().unwrap(),
                e["xp"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(1, "alice", 100), (2, "bob", 40), (2, "cat", 40)]);
    let (status, board) = hub
        .get(
            &format!("/api/v1/ventures/{venture}/leaderboard?by=xp&limit=2"),
            &alice,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(board["entries"].as_array().unwrap().len(), 2);
    assert_eq!(board["entries"][0]["level"], 2);
    // By reputation, after a day folds: alice 10, bob and cat 4.
    clock.advance(Duration::from_millis(DAY_MS as u64));
    let admin = token("ops", AccountRole::Admin);
    hub.post("/api/debug/jobs/reputation-daily/run", &admin, json!({}))
        .await;
    let (_, board) = hub
        .get(
            &format!("/api/v1/ventures/{venture}/leaderboard?by=reputation"),
            &alice,
        )
        .await;
    let reps: Vec<f64> = board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rep_score"].as_f64().unwrap())
        .collect();
    assert_eq!(reps, [10.0, 4.0, 4.0]);
    watcher
        .event_where("leaderboard", |b| b["by"] == "reputation")
        .await;
    // A private profile's level, XP and reputation show on no board.
    let (status, _) = hub
        .call(
            reqwest::Method::PATCH,
            "/api/v1/profiles/me",
            Some(&token("cat", AccountRole::User)),
            Some(json!({"is_public": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, board) = hub
        .get(&format!("/api/v1/ventures/{venture}/leaderboard"), &alice)
        .await;
    let users: Vec<&str> = board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["alice", "bob"]);
    // Members only; bad orderings and limits are named.
    let (status, _) = hub
        .get(
            &format!("/api/v1/ventures/{venture}/leaderboard"),
            &token("eve", AccountRole::User),
        )
        .await;
    assert_eq!(status, 404);
    for (query, field) in [
        ("by=karma", "by"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let (status, body) = hub
            .get(
                &format!("/api/v1/ventures/{venture}/leaderboard?{query}"),
                &alice,
            )
            .await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}"
        );
    }
    // The operators' status counts it all.
    let (status, st) = hub.get("/api/debug/gamification/status", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(st["xp_total"], 180);
    assert_eq!(st["badges_awarded"], 0);
    assert_eq!(st["jobs"].as_array().unwrap().len(), 2);
    let (status, _) = hub.get("/api/debug/gamification/status", &alice).await;
    assert_eq!(status, 403);
    hub.stop().await.unwrap();
}
