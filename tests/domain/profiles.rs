//! Profiles, skills, endorsements and portfolios on both backends: public and private profiles
//! read without a token, every field limit named, skill verification by venture owners and
//! admins only, the endorsement limits (not yourself, once per skill, 5 a day, 20 XP a day)
//! on the hub's clock, and portfolios that show their private items to their owner only.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub, hub_on_clock, lasting_token as token, today_at};
use hub::clock::ManualClock;
use hub_protocol::AccountRole;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    profiles_are_public_until_made_private,
    profile_fields_are_checked_and_named,
    skills_are_listed_from_the_catalog_and_verified_by_owners,
    endorsements_follow_their_limits,
    portfolios_show_private_items_to_their_owner_only,
);

fn user(u: &str) -> String {
    token(u, AccountRole::User)
}

fn admin() -> String {
    token("ops", AccountRole::Admin)
}

async fn anonymous(hub: &TestHub, path: &str) -> (u16, Value) {
    hub.call(Method::GET, path, None, None).await
}

async fn patch(hub: &TestHub, token: &str, body: Value) -> (u16, Value) {
    hub.call(
        Method::PATCH,
        "/api/v1/profiles/me",
        Some(token),
        Some(body),
    )
    .await
}

async fn profiles_are_public_until_made_private(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (status, _) = anonymous(&hub, "/api/v1/profiles/alice").await;
    assert_eq!(status, 404, "a user the hub has never seen");
    hub.get("/api/v1/me", &user("alice")).await;
    let (status, p) = anonymous(&hub, "/api/v1/profiles/alice").await;
    assert_eq!(status, 200, "{p}");
    // The defaults.
    for (field, value) in [
        ("level", json!(1)),
        ("xp", json!(0)),
        ("rep_score", json!(0.0)),
        ("theme", json!("auto")),
        ("is_public", json!(true)),
        ("badges", json!([])),
        ("skills", json!([])),
        ("nickname", Value::Null),
    ] {
        assert_eq!(p[field], value, "{field}");
    }
    let (status, p) = patch(
        &hub,
        &user("alice"),
        json!({"nickname": "Al", "bio": "Builds rockets.\nAnd teams.", "location": "Lyon",
               "website_url": "https://al.example", "theme": "dark"}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["bio"], "Builds rockets.\nAnd teams.");
    let (_, seen) = hub.get("/api/v1/profiles/alice", &user("bob")).await;
    assert_eq!(seen["nickname"], "Al");
    assert_eq!(seen["theme"], "dark");
    // Private: not found to everyone but its owner.
    let (status, _) = patch(&hub, &user("alice"), json!({"is_public": false})).await;
    assert_eq!(status, 200);
    assert_eq!(anonymous(&hub, "/api/v1/profiles/alice").await.0, 404);
    assert_eq!(hub.get("/api/v1/profiles/alice", &user("bob")).await.0, 404);
    assert_eq!(hub.get("/api/v1/profiles/alice", &admin()).await.0, 404);
    let (status, own) = hub.get("/api/v1/profiles/alice", &user("alice")).await;
    assert_eq!((status, own["is_public"].clone()), (200, json!(false)));
    let (status, own) = hub.get("/api/v1/profiles/me", &user("alice")).await;
    assert_eq!((status, own["user_id"].clone()), (200, json!("alice")));
    // A token present but bad is refused, not ignored.
    let (status, _) = hub.get("/api/v1/profiles/alice", "forged").await;
    assert_eq!(status, 401);
    // Clearing a field.
    patch(
        &hub,
        &user("alice"),
        json!({"is_public": true, "nickname": null}),
    )
    .await;
    assert_eq!(
        anonymous(&hub, "/api/v1/profiles/alice").await.1["nickname"],
        Value::Null
    );
    hub.stop().await.unwrap();
}

async fn profile_fields_are_checked_and_named(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    for (body, field) in [
        (json!({"nickname": "n".repeat(41)}), "nickname"),
        (json!({"bio": "b".repeat(281)}), "bio"),
        (json!({"location": "l".repeat(81)}), "location"),
        (
            json!({"website_url": format!("https://{}", "w".repeat(193))}),
            "website_url",
        ),
        (json!({"website_url": "ftp://files.example"}), "website_url"),
        (json!({"website_url": "javascript:alert(1)"}), "website_url"),
        (json!({"theme": "neon"}), "theme"),
        (json!({"is_public": "yes"}), "is_public"),
        (json!({"xp": 9000}), "xp"),
        (json!({"nickname": ["x"]}), "nickname"),
    ] {
        let (status, err) = patch(&hub, &alice, body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["error"]["code"], "invalid");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{body}: {message}"
        );
    }
    let (status, _) = patch(&hub, &alice, json!(["not", "an", "object"])).await;
    assert_eq!(status, 400);
    // At the limits exactly.
    let (status, p) = patch(
        &hub,
        &alice,
        json!({"nickname": "n".repeat(40), "bio": "b".repeat(280), "location": "l".repeat(80),
               "website_url": format!("http://{}", "w".repeat(193))}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    // Nothing of a refused patch was kept.
    let (status, _) = patch(&hub, &alice, json!({"nickname": "ok", "theme": "neon"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        hub.get("/api/v1/profiles/me", &alice).await.1["nickname"],
        "n".repeat(40)
    );
    // Writing needs a token.
    let (status, _) = hub
        .call(Method::PATCH, "/api/v1/profiles/me", None, Some(json!({})))
        .await;
    assert_eq!(status, 401);
    hub.stop().await.unwrap();
}

async fn skills_are_listed_from_the_catalog_and_verified_by_owners(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (status, _) = hub
        .post(
            "/api/v1/skills",
            &user("alice"),
            json!({"name": "Rust", "category": "Engineering"}),
        )
        .await;
    assert_eq!(status, 403, "the catalog is the admins'");
    for (body, status) in [
        (json!({"name": "Rust", "category": "Engineering"}), 201),
        (json!({"name": "rust", "category": "Other"}), 409),
        (json!({"name": "s".repeat(61), "category": "x"}), 400),
        (json!({"name": "Design", "category": "c".repeat(41)}), 400),
        (json!({"name": "Design", "category": "Product"}), 201),
    ] {
        assert_eq!(
            hub.post("/api/v1/skills", &admin(), body.clone()).await.0,
            status,
            "{body}"
        );
    }
    let (_, catalog) = anonymous(&hub, "/api/v1/skills").await;
    assert_eq!(
        catalog["skills"],
        json!([{"name": "Design", "category": "Product"}, {"name": "Rust", "category": "Engineering"}])
    );
    let bob = user("bob");
    let (status, p) = hub
        .post(
            "/api/v1/profiles/me/skills",
            &bob,
            json!({"skill": "RUST", "evidence_url": "https://github.com/bob"}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(
        p["skills"],
        json!([{"name": "Rust", "category": "Engineering", "verified": false, "endorsements": 0,
                "evidence_url": "https://github.com/bob"}])
    );
    for (body, status) in [
        (json!({"skill": "Cobol"}), 404),
        (json!({"skill": "Rust", "evidence_url": "nope"}), 400),
        (
            json!({"skill": "Rust", "evidence_url": format!("https://{}", "e".repeat(293))}),
            400,
        ),
    ] {
        assert_eq!(
            hub.post("/api/v1/profiles/me/skills", &bob, body.clone())
                .await
                .0,
            status,
            "{body}"
        );
    }
    // Verification: an owner of a venture bob is in, or an admin; not bob, not a stranger.
    let venture = hub.venture("alice", "Acme").await;
    let verify = "/api/v1/profiles/bob/skills/rust/verify";
    // Invited is not in: until bob accepts, alice has no say over his profile.
    let (status, invited) = hub
        .post(
            &format!("/api/v1/ventures/{venture}/members"),
            &user("alice"),
            json!({"user_id": "bob"}),
        )
        .await;
    assert_eq!(status, 202, "{invited}");
    assert_eq!(hub.post(verify, &user("alice"), json!({})).await.0, 403);
    let id = invited["invitation"]["id"].as_str().unwrap();
    let (status, _) = hub
        .post(&format!("/api/v1/invitations/{id}/accept"), &bob, json!({}))
        .await;
    assert_eq!(status, 201);
    hub.add_member(&venture, "alice", "carol", "admin").await;
    for who in ["bob", "carol", "dave"] {
        assert_eq!(
            hub.post(verify, &user(who), json!({})).await.0,
            403,
            "{who}"
        );
    }
    let mut live = Sio::connect(hub.addr, &bob).await;
    let (status, p) = hub.post(verify, &user("alice"), json!({})).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["skills"][0]["verified"], true);
    let told = live
        .event_where("notification", |n| n["kind"] == "skill_verified")
        .await;
    assert_eq!(told["data"], json!({"skill": "Rust", "by": "alice"}));
    assert_eq!(
        hub.post(
            "/api/v1/profiles/bob/skills/design/verify",
            &admin(),
            json!({})
        )
        .await
        .0,
        404,
        "bob does not list it"
    );
    // Nobody verifies their own skills: not an owner of a venture she is in, not an admin.
    for (who, tok) in [("alice", user("alice")), ("ops", admin())] {
        let (status, _) = hub
            .post("/api/v1/profiles/me/skills", &tok, json!({"skill": "Rust"}))
            .await;
        assert_eq!(status, 201);
        let (status, err) = hub
            .post(
                &format!("/api/v1/profiles/{who}/skills/rust/verify"),
                &tok,
                json!({}),
            )
            .await;
        assert_eq!(status, 403, "{who}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("their own"),
            "{err}"
        );
    }
    // Verified in bob's audit chain.
    let (_, report) = hub.get("/api/debug/worm/integrity", &admin()).await;
    let bob_chain = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "user:bob")
        .cloned()
        .unwrap();
    assert_eq!(bob_chain["entries"], 1);
    hub.stop().await.unwrap();
}

async fn endorsements_follow_their_limits(backend: Backend) {
    let clock = ManualClock::new(today_at(1));
    let hub = hub_on_clock(backend, &clock, |_| {}).await;
    for name in ["Rust", "Go", "Zig", "Elm", "Lua", "Nim"] {
        hub.post(
            "/api/v1/skills",
            &admin(),
            json!({"name": name, "category": "Languages"}),
        )
        .await;
    }
    for (who, skills) in [
        ("bob", &["Rust", "Go", "Zig", "Elm", "Lua", "Nim"][..]),
        ("cy", &["Rust"][..]),
    ] {
        for s in skills {
            let (status, _) = hub
                .post(
                    "/api/v1/profiles/me/skills",
                    &user(who),
                    json!({"skill": s}),
                )
                .await;
            assert_eq!(status, 201);
        }
    }
    let endorse = |endorser: &str, to: &str, skill: &str, rating: f64| {
        let token = user(endorser);
        let body = json!({"user_id": to, "skill": skill, "rating": rating, "note": "solid"});
        let hub = &hub;
        async move { hub.post("/api/v1/profiles/me/endorse", &token, body).await }
    };
    // Field rules, named.
    for (endorser, to, skill, rating, status, field) in [
        ("ann", "ann", "Rust", 5.0, 400, "user_id"),
        ("ann", "bob", "Rust", 0.0, 400, "rating"),
        ("ann", "bob", "Rust", 6.0, 400, "rating"),
        ("ann", "bob", "Rust", 3.5, 400, "rating"),
        ("ann", "bob", "Cobol", 5.0, 404, ""),
        ("ann", "cy", "Go", 5.0, 404, ""),
    ] {
        let (got, body) = endorse(endorser, to, skill, rating).await;
        assert_eq!(got, status, "{endorser} {to} {skill} {rating}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    // Once per (endorser, user, skill).
    let mut live = Sio::connect(hub.addr, &user("bob")).await;
    let (status, first) = endorse("ann", "bob", "Rust", 5.0).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        first["xp"], 1,
        "ann's reputation is 0: weight 0.5, round(2 × 0.5)"
    );
    let told = live
        .event_where("notification", |n| n["kind"] == "endorsed")
        .await;
    assert_eq!(
        told["data"],
        json!({"endorser_id": "ann", "skill": "Rust", "rating": 5, "xp": 1})
    );
    assert_eq!(endorse("ann", "bob", "rust", 4.0).await.0, 409);
    // Five a day per endorser: ann has given one; four more pass, the sixth is refused.
    for skill in ["Go", "Zig", "Elm", "Lua"] {
        assert_eq!(endorse("ann", "bob", skill, 4.0).await.0, 201, "{skill}");
    }
    let (status, body) = endorse("ann", "bob", "Nim", 4.0).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );
    // The next UTC day, again.
    clock.advance(Duration::from_secs(23 * 3600));
    assert_eq!(endorse("ann", "bob", "Nim", 4.0).await.0, 201);

    // At most 20 XP a day from endorsements: 22 endorsers of cy's Rust at 1 XP each.
    let before = hub.get("/api/v1/profiles/cy", &user("cy")).await.1["xp"]
        .as_i64()
        .unwrap();
    let mut credited = 0;
    for i in 0..22 {
        let (status, e) = endorse(&format!("fan{i}"), "cy", "Rust", 4.0).await;
        assert_eq!(status, 201, "{e}");
        credited += e["xp"].as_i64().unwrap();
        let expected = if i < 20 { 1 } else { 0 };
        assert_eq!(e["xp"], expected, "endorsement {i}");
    }
    assert_eq!(credited, 20);
    let cy = hub.get("/api/v1/profiles/cy", &user("cy")).await.1;
    // 20 from endorsements and 50 from Community Builder (10 endorsements averaging 4).
    assert_eq!(cy["xp"].as_i64().unwrap() - before, 70);
    assert_eq!(cy["skills"][0]["endorsements"], 22);
    assert_eq!(cy["badges"][0]["code"], "community_builder");
    hub.stop().await.unwrap();
}

async fn portfolios_show_private_items_to_their_owner_only(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = user("alice");
    let (status, public) = hub
        .post(
            "/api/v1/portfolio",
            &alice,
            json!({"title": "Launch", "summary": "Shipped v1", "artifact_url": "https://x.example/v1",
                   "buz": 400, "impact": {"users": 1200}, "is_public": true, "task_id": "t-9"}),
        )
        .await;
    assert_eq!(status, 201, "{public}");
    assert_eq!(public["impact"], json!({"users": 1200}));
    // The hub knows no task t-9 of alice's: the claim stands alone.
    assert_eq!(public["verified"], Value::Null);
    // A task the hub credited: beside the claim (999 BUZ), what it recorded (50 BUZ, its venture).
    let (status, answer) = hub
        .post(
            "/api/v1/events/task/accepted",
            &token("platform", AccountRole::System),
            json!({"task_id": "t-real", "user_id": "alice", "venture_id": "v-acme", "tier": "C",
                   "quality": 1.0, "reviewer_trust": 100}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, claimed) = hub
        .post(
            "/api/v1/portfolio",
            &alice,
            json!({"title": "Real", "buz": 999, "task_id": "t-real"}),
        )
        .await;
    assert_eq!(status, 201, "{claimed}");
    assert_eq!(claimed["buz"], 999, "what alice wrote");
    let credited = answer["buz"]["credited"].as_i64().unwrap();
    assert_eq!(
        (
            claimed["verified"]["task_id"].clone(),
            claimed["verified"]["buz_credited"].clone(),
            claimed["verified"]["venture_id"].clone()
        ),
        (json!("t-real"), json!(credited), json!("v-acme")),
        "what the hub knows"
    );
    // Someone else's task is not alice's.
    let (_, theirs) = hub
        .post(
            "/api/v1/portfolio",
            &user("bob"),
            json!({"title": "Borrowed", "task_id": "t-real"}),
        )
        .await;
    assert_eq!(theirs["verified"], Value::Null);
    let (_, listed) = hub.get("/api/v1/profiles/me/portfolio", &alice).await;
    assert_eq!(listed["items"][0]["verified"]["task_id"], "t-real");
    hub.call(
        Method::DELETE,
        &format!("/api/v1/portfolio/{}", claimed["id"].as_str().unwrap()),
        Some(&alice),
        None,
    )
    .await;
    let (status, _) = hub
        .post(
            "/api/v1/portfolio",
            &alice,
            json!({"title": "Draft", "is_public": false}),
        )
        .await;
    assert_eq!(status, 201);
    for (body, field) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "t".repeat(121)}), "title"),
        (
            json!({"title": "t", "summary": "s".repeat(2001)}),
            "summary",
        ),
        (json!({"title": "t", "buz": -5}), "buz"),
        (json!({"title": "t", "impact": "big"}), "impact"),
        (
            json!({"title": "t", "artifact_url": "file:///etc"}),
            "artifact_url",
        ),
    ] {
        let (status, err) = hub.post("/api/v1/portfolio", &alice, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(err["error"]["message"].as_str().unwrap().starts_with(field));
    }
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, others) = anonymous(&hub, "/api/v1/profiles/alice/portfolio").await;
    assert_eq!(status, 200);
    assert_eq!(titles(&others), ["Launch"]);
    assert_eq!(
        titles(
            &hub.get("/api/v1/profiles/alice/portfolio", &user("bob"))
                .await
                .1
        ),
        ["Launch"]
    );
    assert_eq!(
        titles(&hub.get("/api/v1/profiles/alice/portfolio", &alice).await.1),
        ["Draft", "Launch"]
    );
    assert_eq!(
        titles(&hub.get("/api/v1/profiles/me/portfolio", &alice).await.1),
        ["Draft", "Launch"]
    );
    // A private profile hides its portfolio too.
    patch(&hub, &alice, json!({"is_public": false})).await;
    assert_eq!(
        anonymous(&hub, "/api/v1/profiles/alice/portfolio").await.0,
        404
    );
    // Items are deleted by their owner only.
    let id = public["id"].as_str().unwrap();
    assert_eq!(
        hub.delete(&format!("/api/v1/portfolio/{id}"), &user("bob"))
            .await
            .0,
        404
    );
    assert_eq!(
        hub.delete(&format!("/api/v1/portfolio/{id}"), &alice)
            .await
            .0,
        204
    );
    assert_eq!(
        titles(&hub.get("/api/v1/profiles/me/portfolio", &alice).await.1),
        ["Draft"]
    );
    hub.stop().await.unwrap();
}
