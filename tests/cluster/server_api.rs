//! The server API across two nodes: another backend calls node A (with an API key or a
//! `system` token) and the sockets on node B hear it; presence over REST is what the sockets
//! see; a disconnect and a revocation close a user's sockets on both nodes.

use crate::cluster_local::two_nodes;
use crate::common;

use common::node::run_node;
use common::sio::Sio;
use common::yjs::YClient;
use common::{Backend, SECRET, TestHub};
use hub::auth::Claims;
use hub_protocol::AccountRole;
use serde_json::{Value, json};
use std::collections::BTreeSet;

crate::on_every_bus!(
    publish_presence_and_keys_work_across_nodes,
    a_revocation_closes_every_socket_and_refuses_older_tokens,
    a_stock_client_on_another_node_hears_a_publication_and_its_revocation,
);

/// An API key made by an admin on `hub` with `scopes`: `(id, secret)`.
async fn api_key(hub: &TestHub, scopes: &[&str]) -> (String, String) {
    let admin = hub.token_with("root", None, AccountRole::Admin);
    let (status, made) = hub
        .post(
            "/api/v1/api-keys",
            &admin,
            json!({"name": "billing backend", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    (
        made["key"]["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

/// A token of `user` issued `ahead` seconds from now (a token made after a revocation).
fn token_issued_in(user: &str, ahead: u64) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: user.to_owned(),
        name: None,
        role: AccountRole::User,
        exp: now + 3600,
        iat: Some(now + ahead),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn users_of(presence: &Value) -> BTreeSet<String> {
    presence
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn publish_presence_and_keys_work_across_nodes(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let (key_id, key) = api_key(&a, &["publish", "presence"]).await;
    assert!(key.starts_with("hk_") && key.len() > 40, "{key}");

    // The key is listed without its secret.
    let admin = a.token_with("root", None, AccountRole::Admin);
    let (status, list) = a.get("/api/v1/api-keys", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(list["keys"][0]["id"], key_id.as_str());
    assert_eq!(list["keys"][0]["scopes"], json!(["publish", "presence"]));
    assert_eq!(list["keys"][0]["prefix"], &key[..11]);
    assert!(!list.to_string().contains(&key), "{list}");

    // Bob on node B, Carol on node A, and Bob's second tab on node A.
    let mut bob = Sio::connect(b.addr, &b.token("bob")).await;
    bob.join(&room).await;
    let mut carol = Sio::connect(a.addr, &a.token("carol")).await;
    carol.join(&room).await;
    let mut bob_a = Sio::connect(a.addr, &a.token("bob")).await;
    bob_a.join(&room).await;
    bob.event_where("presence:join", |e| e["user"]["user_id"] == "carol")
        .await;

    // A publication through node A reaches the room's sockets on both nodes.
    let path = format!("/api/v1/rooms/{room}/publish");
    let (status, sent) = a
        .post(
            &path,
            &key,
            json!({"event": "deal:closed", "data": {"amount": 5, "tags": ["x"]}}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["room"], room.as_str());
    assert!(sent.get("seq").is_none(), "{sent}");
    let heard = bob.event("server:event").await;
    assert_eq!(heard, sent);
    assert_eq!(carol.event("server:event").await, sent);
    assert_eq!(heard["data"], json!({"amount": 5, "tags": ["x"]}));

    // Kept publications get seqs 1, 2 and are read back after a seq by a member.
    for n in 1..=2 {
        let (status, kept) = a
            .post(
                &path,
                &key,
                json!({"event": "price", "data": n, "store": true}),
            )
            .await;
        assert_eq!((status, kept["seq"].as_i64()), (200, Some(n)), "{kept}");
        assert_eq!(bob.event("server:event").await["seq"], n);
    }
    let (status, page) = b
        .get(
            &format!("/api/v1/rooms/{room}/publications?after=1"),
            &b.token("bob"),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["publications"].as_array().unwrap().len(), 1);
    assert_eq!(page["publications"][0]["seq"], 2);
    assert_eq!(page["publications"][0]["data"], 2);
    assert_eq!(page["has_more"], false);
    let (status, _) = b
        .get(
            &format!("/api/v1/rooms/{room}/publications"),
            &b.token("dave"),
        )
        .await;
    assert_eq!(status, 403, "a non-member reads no publication");

    // To one user: both of Bob's tabs, on both nodes.
    let (status, to_bob) = a
        .post(
            "/api/v1/users/bob/publish",
            &key,
            json!({"event": "invoice:due", "data": {"id": "i1"}}),
        )
        .await;
    assert_eq!(status, 200, "{to_bob}");
    assert_eq!(to_bob["room"], "user:bob");
    for tab in [&mut bob, &mut bob_a] {
        let heard = tab
            .event_where("server:event", |p| p["room"] == "user:bob")
            .await;
        assert_eq!(heard, to_bob);
    }

    // To many rooms at once, each room once.
    let (status, many) = a
        .post(
            "/api/v1/publish",
            &key,
            json!({"rooms": [room, "team:none", room], "event": "maintenance", "data": null}),
        )
        .await;
    assert_eq!(status, 200, "{many}");
    let rooms: Vec<&str> = many["publications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["room"].as_str().unwrap())
        .collect();
    assert_eq!(rooms, [room.as_str(), "team:none"]);
    let heard = carol
        .event_where("server:event", |p| p["event"] == "maintenance")
        .await;
    assert_eq!(heard, many["publications"][0]);

    // Presence over REST (node B) is what a socket joining now sees (on node A).
    let (status, presence) = b.get(&format!("/api/v1/rooms/{room}/presence"), &key).await;
    assert_eq!(status, 200, "{presence}");
    let mut carol2 = Sio::connect(a.addr, &a.token("carol")).await;
    let joined = carol2.join(&room).await;
    assert_eq!(
        users_of(&presence["presence"]),
        users_of(&joined["presence"])
    );
    assert_eq!(
        users_of(&presence["presence"]),
        BTreeSet::from(["bob".to_owned(), "carol".to_owned()])
    );
    assert_eq!(presence["count"], json!({"users": 2, "connections": 3}));
    let (status, counts) = a
        .post(
            "/api/v1/presence/counts",
            &key,
            json!({"rooms": [room, "team:empty"]}),
        )
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(
        counts["rooms"],
        json!([
            {"room": room, "count": {"users": 2, "connections": 4}},
            {"room": "team:empty", "count": {"users": 0, "connections": 0}},
        ])
    );

    // What the key may not do, and what no one may send.
    let (status, refused) = a
        .post("/api/v1/users/bob/disconnect", &key, json!({}))
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`disconnect` scope"),
        "{refused}"
    );
    let (status, _) = a
        .post(&path, &a.token("bob"), json!({"event": "x", "data": 1}))
        .await;
    assert_eq!(status, 403, "a user's token publishes nothing");
    let (status, _) = a
        .call(
            reqwest::Method::POST,
            &path,
            None,
            Some(json!({"event": "x", "data": 1})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = a
        .post(&path, "hk_not-a-key", json!({"event": "x", "data": 1}))
        .await;
    assert_eq!(status, 401);
    let (status, _) = a.get("/api/v1/me", &key).await;
    assert_eq!(status, 401, "an API key is for the server API only");
    for (body, field) in [
        (json!({"event": "no spaces", "data": 1}), "event"),
        (json!({"event": "", "data": 1}), "event"),
        (json!({"event": "big", "data": "x".repeat(70_000)}), "data"),
    ] {
        let (status, refused) = a.post(&path, &key, body).await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{refused}"
        );
    }
    let (status, _) = a
        .post(
            "/api/v1/rooms/lobby/publish",
            &key,
            json!({"event": "x", "data": 1}),
        )
        .await;
    assert_eq!(status, 422, "not a room");

    // A revoked key is refused at once, on every node.
    let (status, revoked) = a
        .delete(&format!("/api/v1/api-keys/{key_id}"), &admin)
        .await;
    assert_eq!(status, 200);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let (status, _) = b
        .post(&path, &key, json!({"event": "late", "data": 1}))
        .await;
    assert_eq!(status, 401);
    let (status, _) = a
        .post(
            "/api/v1/api-keys",
            &a.token("bob"),
            json!({"name": "mine", "scopes": ["publish"]}),
        )
        .await;
    assert_eq!(status, 403, "only admins make keys");
}

async fn a_revocation_closes_every_socket_and_refuses_older_tokens(backend: Backend, redis: bool) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let system = a.token_with("billing", None, AccountRole::System);
    let old = b.token("bob");
    let mut bob_b = Sio::connect(b.addr, &old).await;
    bob_b.join(&room).await;
    let mut bob_a = Sio::connect(a.addr, &old).await;
    bob_a.join(&room).await;
    let mut carol = Sio::connect(a.addr, &a.token("carol")).await;
    carol.join(&room).await;
    let (status, doc) = a
        .post(
            "/api/v1/docs",
            &a.token("alice"),
            json!({"room": room, "title": "Plan"}),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    let doc = doc["id"].as_str().unwrap().to_owned();

    // A disconnect closes both tabs, saying why; the same token connects again.
    let (status, done) = a
        .post(
            "/api/v1/users/bob/disconnect",
            &system,
            json!({"reason": "maintenance"}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.get("revoked_before").is_none());
    for tab in [&mut bob_a, &mut bob_b] {
        tab.disconnected_by_server().await;
        assert_eq!(
            tab.event("session:closed").await,
            json!({"code": "disconnected", "reason": "maintenance"})
        );
    }
    let mut bob_b = Sio::connect(b.addr, &old).await;
    bob_b.join(&room).await;
    let mut bob_a = Sio::connect(a.addr, &old).await;
    bob_a.join(&room).await;

    // Bob's editors on both nodes, over `/yjs`.
    let mut editors = Vec::new();
    for hub in [&a, &b] {
        let mut y = YClient::connect(hub.addr, &doc, Some(&old)).await.unwrap();
        y.recv_prefixed(&[0, 0]).await;
        editors.push(y);
    }

    // A revocation closes both tabs and both editors, and the old token is refused everywhere.
    let (status, done) = a.post("/api/v1/users/bob/revoke", &system, json!({})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["reason"], "tokens revoked");
    assert!(done["revoked_before"].is_string(), "{done}");
    for tab in [&mut bob_a, &mut bob_b] {
        tab.disconnected_by_server().await;
        assert_eq!(tab.event("session:closed").await["code"], "revoked");
    }
    for y in &mut editors {
        assert_eq!(y.closed().await, Some(4401));
    }
    // Bob leaves the room for everyone else, with no ghost.
    carol
        .event_where("presence:leave", |e| e["user_id"] == "bob")
        .await;
    for hub in [&a, &b] {
        let (status, refused) = hub.get("/api/v1/me", &old).await;
        assert_eq!(status, 401);
        assert_eq!(refused["error"]["message"], "token revoked: sign in again");
        let (_, answer) = common::eio::WsClient::connect(hub.addr, Some(&old)).await;
        assert!(answer.starts_with("44"), "{answer}");
        assert!(answer.contains("token revoked"), "{answer}");
        assert_eq!(
            YClient::connect(hub.addr, &doc, Some(&old)).await.err(),
            Some(401)
        );
    }
    // A token issued after the revocation is good on both nodes; Carol was never touched.
    let fresh = token_issued_in("bob", 2);
    for hub in [&a, &b] {
        assert_eq!(hub.get("/api/v1/me", &fresh).await.0, 200);
        Sio::connect(hub.addr, &fresh).await.join(&room).await;
    }
    assert_eq!(carol.ok("sys:ping", json!({})).await["ok"], true);
    // Each disconnect and revocation is in Bob's audit chain, by whom.
    let mut db = common::raw_db(&a).await;
    let audited: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, actor_id FROM worm_audits WHERE scope = 'user:bob' ORDER BY seq",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            (
                "session.disconnected".to_owned(),
                Some("billing".to_owned())
            ),
            ("tokens.revoked".to_owned(), Some("billing".to_owned())),
        ]
    );
}

async fn a_stock_client_on_another_node_hears_a_publication_and_its_revocation(
    backend: Backend,
    redis: bool,
) {
    let (a, b, room) = two_nodes(backend, redis).await;
    let (_, key) = api_key(&a, &["publish", "disconnect"]).await;
    let out = run_node(
        "server-api.mjs",
        &[
            ("HUB_URL", b.base.clone()),
            ("API_URL", a.base.clone()),
            ("HUB_TOKEN", b.token("bob")),
            ("API_KEY", key),
            ("ROOM", room),
        ],
    )
    .await;
    assert!(out.contains("heard the publication"), "{out}");
    assert!(out.contains("closed as revoked"), "{out}");
    assert!(out.contains("refused after revocation"), "{out}");
}
