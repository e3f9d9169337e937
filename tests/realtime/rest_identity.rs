//! REST: ventures, teams, memberships, `/me`, and the error contract, on both backends.

use crate::common;

use common::{Backend, TestHub};
use hub_protocol::AccountRole;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    creator_owns_the_venture_and_sees_it_everywhere,
    non_members_cannot_see_a_venture,
    owners_and_admins_manage_members_by_the_rules,
    the_last_owner_cannot_leave_or_be_demoted,
    teams_belong_to_ventures_and_follow_venture_membership,
    privileged_accounts_manage_any_venture,
    tokens_are_checked_on_every_route,
    bad_input_gets_the_json_error_body,
    users_are_learned_and_renamed_from_tokens,
    concurrent_owner_removals_keep_one_owner,
);

async fn creator_owns_the_venture_and_sees_it_everywhere(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = hub.token("alice");
    let (status, v) = hub
        .post(
            "/api/v1/ventures",
            &alice,
            json!({"name": "  Acme  ", "description": "rockets"}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["name"], "Acme");
    assert_eq!(v["role"], "owner");
    assert_eq!(v["created_by"], "alice");
    let id = v["id"].as_str().unwrap();

    let (status, list) = hub.get("/api/v1/ventures", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(list["ventures"].as_array().unwrap().len(), 1);
    assert_eq!(list["ventures"][0]["id"], id);

    let (status, detail) = hub.get(&format!("/api/v1/ventures/{id}"), &alice).await;
    assert_eq!(status, 200);
    assert_eq!(
        detail["members"],
        json!([{"user_id": "alice", "name": "Alice", "role": "owner", "added_at": detail["members"][0]["added_at"]}])
    );
    assert_eq!(detail["teams"], json!([]));

    let (status, me) = hub.get("/api/v1/me", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(
        me["user"],
        json!({"id": "alice", "name": "Alice", "role": "user"})
    );
    assert_eq!(me["ventures"][0]["id"], id);
    assert_eq!(me["ventures"][0]["role"], "owner");
    hub.stop().await.unwrap();
}

async fn non_members_cannot_see_a_venture(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Secret").await;
    let mallory = hub.token("mallory");
    let (status, body) = hub.get(&format!("/api/v1/ventures/{id}"), &mallory).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = hub
        .post(
            &format!("/api/v1/ventures/{id}/members"),
            &mallory,
            json!({"user_id": "mallory", "role": "owner"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = hub
        .post(
            &format!("/api/v1/ventures/{id}/teams"),
            &mallory,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = hub.get("/api/v1/ventures", &mallory).await;
    assert_eq!(list["ventures"], json!([]));
    let (status, _) = hub.get("/api/v1/ventures/does-not-exist", &mallory).await;
    assert_eq!(status, 404);
    hub.stop().await.unwrap();
}

async fn owners_and_admins_manage_members_by_the_rules(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    let members = format!("/api/v1/ventures/{id}/members");

    // The owner invites an admin and a member (202); each is a member once they accept (201);
    // a member's role changes at once (200).
    let (status, inv) = hub
        .post(
            &members,
            &hub.token("alice"),
            json!({"user_id": "bob", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (status, inv["status"].clone()),
        (202, json!("invited")),
        "{inv}"
    );
    assert_eq!(inv["invitation"]["role"], "admin");
    assert_eq!(inv["member"], Value::Null);
    // Invited is not a member: bob sees nothing of the venture yet.
    assert_eq!(
        hub.get(&format!("/api/v1/ventures/{id}"), &hub.token("bob"))
            .await
            .0,
        404
    );
    let (_, mine) = hub.get("/api/v1/invitations", &hub.token("bob")).await;
    assert_eq!(mine["invitations"][0]["venture_name"], "Acme");
    let bob_inv = mine["invitations"][0]["id"].as_str().unwrap().to_owned();
    // Nobody but bob answers it.
    let accept = |inv: &str| format!("/api/v1/invitations/{inv}/accept");
    assert_eq!(
        hub.post(&accept(&bob_inv), &hub.token("carol"), json!({}))
            .await
            .0,
        404
    );
    let (status, m) = hub
        .post(&accept(&bob_inv), &hub.token("bob"), json!({}))
        .await;
    assert_eq!((status, m["role"].clone()), (201, json!("admin")), "{m}");
    assert_eq!(
        hub.post(&accept(&bob_inv), &hub.token("bob"), json!({}))
            .await
            .0,
        404
    );
    hub.add_member(&id, "alice", "carol", "member").await;
    let (status, m) = hub
        .post(
            &members,
            &hub.token("alice"),
            json!({"user_id": "carol", "role": "viewer"}),
        )
        .await;
    assert_eq!(
        (status, m["status"].clone(), m["member"]["role"].clone()),
        (200, json!("changed"), json!("viewer"))
    );
    // Declined and withdrawn invitations are gone.
    let (_, inv) = hub
        .post(&members, &hub.token("alice"), json!({"user_id": "erin"}))
        .await;
    let erin_inv = inv["invitation"]["id"].as_str().unwrap().to_owned();
    let (_, inv) = hub
        .post(&members, &hub.token("alice"), json!({"user_id": "fay"}))
        .await;
    let fay_inv = inv["invitation"]["id"].as_str().unwrap().to_owned();
    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(
        detail["invitations"].as_array().unwrap().len(),
        2,
        "{detail}"
    );
    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("carol"))
        .await;
    assert_eq!(
        detail["invitations"],
        json!([]),
        "only managers see invitations"
    );
    assert_eq!(
        hub.post(
            &format!("/api/v1/invitations/{erin_inv}/decline"),
            &hub.token("erin"),
            json!({})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        hub.delete(&format!("{members}/fay"), &hub.token("alice"))
            .await
            .0,
        204
    );
    assert_eq!(
        hub.post(&accept(&fay_inv), &hub.token("fay"), json!({}))
            .await
            .0,
        404
    );
    assert_eq!(
        hub.post(&accept(&erin_inv), &hub.token("erin"), json!({}))
            .await
            .0,
        404
    );
    assert_eq!(
        hub.get("/api/v1/invitations", &hub.token("erin")).await.1["invitations"],
        json!([])
    );

    // An admin manages members but never the owner role.
    let bob = hub.token("bob");
    let (status, _) = hub
        .post(&members, &bob, json!({"user_id": "dave", "role": "member"}))
        .await;
    assert_eq!(status, 202);
    let dave_inv =
        hub.get("/api/v1/invitations", &hub.token("dave")).await.1["invitations"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(
        hub.post(&accept(&dave_inv), &hub.token("dave"), json!({}))
            .await
            .0,
        201
    );
    let (status, body) = hub
        .post(&members, &bob, json!({"user_id": "dave", "role": "owner"}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _) = hub.delete(&format!("{members}/alice"), &bob).await;
    assert_eq!(status, 403);

    // Members and viewers do not manage.
    let (status, _) = hub
        .post(&members, &hub.token("dave"), json!({"user_id": "erin"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = hub
        .delete(&format!("{members}/dave"), &hub.token("carol"))
        .await;
    assert_eq!(status, 403);

    // Anyone may leave; removing someone absent is a 404.
    let (status, _) = hub
        .delete(&format!("{members}/carol"), &hub.token("carol"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub.delete(&format!("{members}/carol"), &bob).await;
    assert_eq!(status, 404);
    let (status, _) = hub.delete(&format!("{members}/dave"), &bob).await;
    assert_eq!(status, 204);

    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("alice"))
        .await;
    let roles: Vec<(String, String)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("alice".into(), "owner".into()),
            ("bob".into(), "admin".into())
        ]
    );

    // A removed member no longer sees the venture.
    let (status, _) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("carol"))
        .await;
    assert_eq!(status, 404);
    hub.stop().await.unwrap();
}

async fn the_last_owner_cannot_leave_or_be_demoted(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    let members = format!("/api/v1/ventures/{id}/members");
    let alice = hub.token("alice");
    let (status, body) = hub.delete(&format!("{members}/alice"), &alice).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let (status, _) = hub
        .post(
            &members,
            &alice,
            json!({"user_id": "alice", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 409);

    // With a second owner (invited, and accepted), the first may step down.
    hub.add_member(&id, "alice", "bob", "owner").await;
    let (status, _) = hub
        .post(
            &members,
            &alice,
            json!({"user_id": "alice", "role": "member"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, me) = hub.get("/api/v1/me", &alice).await;
    assert_eq!(me["ventures"][0]["role"], "member");
    hub.stop().await.unwrap();
}

async fn teams_belong_to_ventures_and_follow_venture_membership(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "member").await;
    hub.add_member(&id, "alice", "carol", "admin").await;

    // Only venture owners/admins create teams.
    let (status, _) = hub
        .post(
            &format!("/api/v1/ventures/{id}/teams"),
            &hub.token("bob"),
            json!({"name": "Core"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, team) = hub
        .post(
            &format!("/api/v1/ventures/{id}/teams"),
            &hub.token("carol"),
            json!({"name": "Core"}),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["venture_id"], id.as_str());
    assert_eq!(team["role"], "owner");
    let tid = team["id"].as_str().unwrap().to_owned();
    let tmembers = format!("/api/v1/teams/{tid}/members");

    // Team members must be venture members.
    let (status, body) = hub
        .post(&tmembers, &hub.token("carol"), json!({"user_id": "zed"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    let joined = hub
        .join_group(&tmembers, &hub.token("carol"), "bob", "member")
        .await;
    assert_eq!(joined["role"], "member");
    // A venture owner manages every team, member of it or not.
    let (status, _) = hub
        .post(
            &tmembers,
            &hub.token("alice"),
            json!({"user_id": "bob", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, detail) = hub
        .get(&format!("/api/v1/teams/{tid}"), &hub.token("bob"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["role"], "admin");
    assert_eq!(detail["members"].as_array().unwrap().len(), 2);
    let (_, me) = hub.get("/api/v1/me", &hub.token("bob")).await;
    assert_eq!(me["teams"][0]["id"], tid.as_str());
    assert_eq!(me["teams"][0]["role"], "admin");
    let (_, venture) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("bob"))
        .await;
    assert_eq!(venture["teams"][0]["role"], "admin");

    // Outsiders do not see the team.
    let (status, _) = hub
        .get(&format!("/api/v1/teams/{tid}"), &hub.token("mallory"))
        .await;
    assert_eq!(status, 404);

    // Leaving the venture leaves its teams.
    let (status, _) = hub
        .delete(
            &format!("/api/v1/ventures/{id}/members/bob"),
            &hub.token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    let (_, me) = hub.get("/api/v1/me", &hub.token("bob")).await;
    assert_eq!(me["teams"], json!([]));
    assert_eq!(me["ventures"], json!([]));
    hub.stop().await.unwrap();
}

async fn privileged_accounts_manage_any_venture(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    let admin = hub.token_with("ops", Some("Ops"), AccountRole::Admin);
    let (status, detail) = hub.get(&format!("/api/v1/ventures/{id}"), &admin).await;
    assert_eq!(status, 200);
    assert_eq!(detail["role"], Value::Null);
    let (status, _) = hub
        .post(
            &format!("/api/v1/ventures/{id}/members"),
            &admin,
            json!({"user_id": "bob", "role": "owner"}),
        )
        .await;
    assert_eq!(status, 201);
    let system = hub.token_with("billing", None, AccountRole::System);
    let (status, _) = hub
        .delete(&format!("/api/v1/ventures/{id}/members/alice"), &system)
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub
        .post(
            &format!("/api/v1/ventures/{id}/teams"),
            &system,
            json!({"name": "Ops"}),
        )
        .await;
    assert_eq!(status, 201);
    hub.stop().await.unwrap();
}

async fn tokens_are_checked_on_every_route(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let forged = hub::auth::mint_with_secret(
        b"some-other-secret-some-other-secret!",
        "alice",
        None,
        AccountRole::Admin,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let expired = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let claims = json!({"sub": "alice", "exp": jsonwebtoken::get_current_timestamp() - 3600});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(common::SECRET.as_bytes()),
        )
        .unwrap()
    };
    for path in [
        "/api/v1/me",
        "/api/v1/ventures",
        "/api/v1/ventures/x",
        "/api/v1/teams/x",
    ] {
        for token in [
            None,
            Some("garbage"),
            Some(forged.as_str()),
            Some(expired.as_str()),
        ] {
            let (status, body) = hub.call(Method::GET, path, token, None).await;
            assert_eq!(status, 401, "{path} {token:?}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized");
            assert!(body["error"]["message"].is_string());
        }
    }
    let (_, body) = hub
        .call(Method::GET, "/api/v1/me", Some(&expired), None)
        .await;
    assert_eq!(body["error"]["message"], "token expired");
    // A token without its scheme is not "missing": the answer says what is wrong.
    let resp = hub
        .http
        .get(hub.url("/api/v1/me"))
        .header("authorization", hub.token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "the Authorization header must be `Bearer <token>`"
    );
    hub.stop().await.unwrap();
}

async fn bad_input_gets_the_json_error_body(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = hub.token("alice");
    let raw =
        |method: Method, path: &str| hub.http.request(method, hub.url(path)).bearer_auth(&alice);

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            raw(Method::POST, "/api/v1/ventures")
                .header("content-type", "application/json")
                .body("{\"name\":"),
            400,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures")
                .header("content-type", "text/plain")
                .body("{}"),
            415,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures").json(&json!({"title": "x"})),
            422,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures").json(&json!({"name": "   "})),
            422,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures").json(&json!({"name": "x".repeat(121)})),
            422,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures").json(&json!({"name": "a\u{0}b"})),
            422,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures")
                .json(&json!({"name": "x", "description": "d".repeat(3000)})),
            422,
            "invalid",
        ),
        (
            raw(Method::POST, "/api/v1/ventures")
                .json(&json!({"name": "x".repeat(2 * 1024 * 1024)})),
            413,
            "too_large",
        ),
        (raw(Method::GET, "/api/v1/nothing-here"), 404, "not_found"),
        (raw(Method::DELETE, "/api/v1/ventures"), 405, "invalid"),
    ];
    for (req, status, code) in cases {
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        if got == 413 {
            // The unread body makes the connection unusable: the client is told not to reuse it.
            assert_eq!(
                resp.headers().get("connection").map(|v| v.as_bytes()),
                Some(&b"close"[..])
            );
        }
        let body: Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("non-JSON error body for {status}: {e}"));
        assert_eq!(
            (got, body["error"]["code"].as_str().unwrap_or("")),
            (status, code),
            "{body}"
        );
    }

    let id = hub.venture("alice", "Acme").await;
    let members = format!("/api/v1/ventures/{id}/members");
    for bad in [
        json!({"user_id": ""}),
        json!({"user_id": "a b"}),
        json!({"user_id": "x:y"}),
        json!({"user_id": "bob", "role": "god"}),
    ] {
        let (status, body) = hub.post(&members, &alice, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid");
    }
    hub.stop().await.unwrap();
}

async fn users_are_learned_and_renamed_from_tokens(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    // An admin adds Bob directly, before he ever signed in: his name is his id until a token
    // tells it.
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (status, added) = hub
        .post(
            &format!("/api/v1/ventures/{id}/members"),
            &admin,
            json!({"user_id": "bob"}),
        )
        .await;
    assert_eq!(
        (status, added["status"].clone()),
        (201, json!("added")),
        "{added}"
    );
    let members = |detail: &Value, user: &str| {
        detail["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == user)
            .cloned()
            .unwrap()
    };
    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(members(&detail, "bob")["name"], "bob");
    let bob = hub.token_with("bob", Some("Robert"), AccountRole::User);
    let (_, me) = hub.get("/api/v1/me", &bob).await;
    assert_eq!(me["user"]["name"], "Robert");
    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(members(&detail, "bob")["name"], "Robert");
    let bobby = hub.token_with("bob", Some("Bobby"), AccountRole::User);
    hub.get("/api/v1/me", &bobby).await;
    let (_, detail) = hub
        .get(&format!("/api/v1/ventures/{id}"), &hub.token("alice"))
        .await;
    assert_eq!(members(&detail, "bob")["name"], "Bobby");
    hub.stop().await.unwrap();
}

async fn concurrent_owner_removals_keep_one_owner(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "owner").await;
    // Two owners remove each other at the same time: exactly one succeeds.
    let (path_a, token_a) = (
        format!("/api/v1/ventures/{id}/members/bob"),
        hub.token("alice"),
    );
    let (path_b, token_b) = (
        format!("/api/v1/ventures/{id}/members/alice"),
        hub.token("bob"),
    );
    let a = hub.delete(&path_a, &token_a);
    let b = hub.delete(&path_b, &token_b);
    let ((sa, _), (sb, _)) = tokio::join!(a, b);
    let mut statuses = [sa, sb];
    statuses.sort();
    assert!(
        statuses == [204, 403] || statuses == [204, 404] || statuses == [204, 409],
        "{statuses:?}"
    );
    let admin = hub.token_with("ops", None, AccountRole::Admin);
    let (_, detail) = hub.get(&format!("/api/v1/ventures/{id}"), &admin).await;
    let owners = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner")
        .count();
    assert_eq!(owners, 1, "{detail}");
    hub.stop().await.unwrap();
}
