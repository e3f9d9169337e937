//! A venture's activity feed on both backends: members joining and leaving, teams and
//! documents created, accepted tasks, stored newest first with paging, readable by members
//! only, and heard live in the venture's room.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub};
use hub_protocol::AccountRole;
use serde_json::json;

on_both_backends!(the_feed_records_the_ventures_life_and_the_room_hears_it);

async fn the_feed_records_the_ventures_life_and_the_room_hears_it(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let alice = hub.token("alice");
    let venture = hub.venture("alice", "Acme").await;
    hub.add_member(&venture, "alice", "bob", "member").await;
    let room = format!("venture:{venture}");
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;

    hub.add_member(&venture, "alice", "carol", "viewer").await;
    let live = bob.event("activity").await;
    assert_eq!(live["verb"], "member.joined");
    assert_eq!(live["object_id"], "carol");
    assert_eq!(live["actor_id"], "alice");
    assert_eq!(live["data"]["role"], "viewer");

    let (_, team) = hub
        .post(
            &format!("/api/v1/ventures/{venture}/teams"),
            &alice,
            json!({"name": "Core"}),
        )
        .await;
    let (_, doc) = hub
        .post(
            "/api/v1/docs",
            &alice,
            json!({"room": format!("team:{}", team["id"].as_str().unwrap()), "title": "Plan"}),
        )
        .await;
    let system = hub.token_with("platform", None, AccountRole::System);
    let task = json!({"task_id": "t-1", "user_id": "bob", "venture_id": venture, "tier": "B",
                      "quality": 1.0, "reviewer_trust": 100});
    assert_eq!(
        hub.post("/api/v1/events/task/accepted", &system, task.clone())
            .await
            .0,
        201
    );
    // A replay is not news.
    assert_eq!(
        hub.post("/api/v1/events/task/accepted", &system, task)
            .await
            .0,
        200
    );
    let (status, _) = hub
        .delete(&format!("/api/v1/ventures/{venture}/members/carol"), &alice)
        .await;
    assert_eq!(status, 204);
    let verbs: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(
                bob.event("activity").await["verb"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        v
    };
    assert_eq!(
        verbs,
        [
            "team.created",
            "document.created",
            "task.accepted",
            "member.left"
        ]
    );

    // The feed, newest first, in pages.
    let path = format!("/api/v1/ventures/{venture}/activity");
    let (status, page) = hub.get(&format!("{path}?limit=4"), &hub.token("bob")).await;
    assert_eq!(status, 200, "{page}");
    let verbs: Vec<&str> = page["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["verb"].as_str().unwrap())
        .collect();
    assert_eq!(
        verbs,
        [
            "member.left",
            "task.accepted",
            "document.created",
            "team.created"
        ]
    );
    assert_eq!(page["has_more"], true);
    assert_eq!(page["activities"][1]["object_id"], "t-1");
    assert_eq!(page["activities"][2]["object_id"], doc["id"]);
    let last = page["activities"][3]["id"].as_str().unwrap();
    let (_, older) = hub
        .get(&format!("{path}?before={last}&limit=4"), &hub.token("bob"))
        .await;
    let verbs: Vec<&str> = older["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["verb"].as_str().unwrap())
        .collect();
    // Bob's own joining (before he was in the room) and carol's.
    assert_eq!(verbs, ["member.joined", "member.joined"]);
    assert_eq!(older["has_more"], false);

    // Members only; a limit out of range is refused.
    assert_eq!(hub.get(&path, &hub.token("mallory")).await.0, 404);
    assert_eq!(hub.get(&format!("{path}?limit=0"), &alice).await.0, 422);
    hub.stop().await.unwrap();
}
