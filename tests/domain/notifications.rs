//! Stored notifications on both backends: mentions, invitations and membership changes are stored, sent
//! live after they are committed, listed newest first (all or unread), and marked read by id
//! or all at once; a user never reads or marks another's.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub};
use serde_json::{Value, json};

on_both_backends!(notifications_are_stored_sent_listed_and_read);

async fn notifications_are_stored_sent_listed_and_read(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let venture = hub.venture("alice", "Acme").await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    hub.add_member(&venture, "alice", "bob", "member").await;
    // Invited, live; then a member once he accepted.
    let invited = bob.event("notification").await;
    assert_eq!(invited["kind"], "member_invited");
    assert_eq!(
        (
            invited["data"]["venture_id"].clone(),
            invited["data"]["venture_name"].clone(),
            invited["data"]["role"].clone(),
            invited["data"]["invited_by"].clone()
        ),
        (
            json!(venture),
            json!("Acme"),
            json!("member"),
            json!("alice")
        )
    );
    let added = bob.event("notification").await;
    assert_eq!(added["kind"], "member_added");
    assert_eq!(
        added["data"],
        json!({"venture_id": venture, "role": "member", "by": "alice", "team_id": null})
    );

    let room = format!("venture:{venture}");
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    bob.join(&room).await;
    for i in 0..3 {
        alice
            .say(&room, &format!("m{i}"), &format!("@bob look {i}"))
            .await;
    }
    for _ in 0..3 {
        assert_eq!(bob.event("notification").await["kind"], "mention");
    }

    let bob_token = hub.token("bob");
    let list = |query: &'static str| {
        let token = bob_token.clone();
        let hub = &hub;
        async move {
            let (status, body) = hub
                .get(&format!("/api/v1/notifications{query}"), &token)
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let all = list("").await;
    assert_eq!(all["unread_count"], 5);
    let kinds: Vec<&str> = all["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "mention",
            "mention",
            "mention",
            "member_added",
            "member_invited"
        ],
        "newest first"
    );
    assert_eq!(all["notifications"][0]["data"]["excerpt"], "@bob look 2");

    // Paging.
    let page = list("?limit=2").await;
    assert_eq!(page["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(page["has_more"], true);
    let last = page["notifications"][1]["id"].as_str().unwrap().to_owned();
    let (_, rest) = hub
        .get(&format!("/api/v1/notifications?before={last}"), &bob_token)
        .await;
    assert_eq!(rest["notifications"].as_array().unwrap().len(), 3);
    assert_eq!(rest["has_more"], false);

    // Read by id; another user's ids change nothing.
    let first = all["notifications"][0]["id"].clone();
    let (status, read) = hub
        .post(
            "/api/v1/notifications/read",
            &bob_token,
            json!({"ids": [first]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read, json!({"unread_count": 4}));
    let (_, theirs) = hub
        .post(
            "/api/v1/notifications/read",
            &hub.token("alice"),
            json!({"ids": [all["notifications"][1]["id"]]}),
        )
        .await;
    assert_eq!(theirs["unread_count"], 0);
    let unread = list("?unread=true").await;
    assert_eq!(unread["notifications"].as_array().unwrap().len(), 4);
    assert!(
        unread["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["read"] == false)
    );
    let (_, none) = hub
        .post(
            "/api/v1/notifications/read",
            &bob_token,
            json!({"all": true}),
        )
        .await;
    assert_eq!(none["unread_count"], 0);
    assert_eq!(list("").await["notifications"][0]["read"], true);
    let (status, _) = hub
        .post("/api/v1/notifications/read", &bob_token, json!({}))
        .await;
    assert_eq!(status, 422, "neither ids nor all");

    // Removal is a notification too (bob has left the room's sockets, but not his own).
    let (status, _) = hub
        .delete(
            &format!("/api/v1/ventures/{venture}/members/bob"),
            &hub.token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    let removed: Value = bob
        .event_where("notification", |n| n["kind"] == "member_removed")
        .await;
    assert_eq!(removed["data"]["by"], "alice");
    hub.stop().await.unwrap();
}
