//! Rooms, presence, typing and durable chat with real Socket.IO clients, on both backends.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestHub};
use hub::error::DomainError;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    presence_counts_users_not_tabs_and_hides_reloads,
    status_changes_are_updates_never_leave_and_join,
    typing_is_not_echoed_and_expires,
    a_retried_send_returns_the_original,
    concurrent_senders_get_gap_free_seqs,
    group_commits_keep_rooms_gap_free_and_publish_in_seq_order,
    a_group_commit_answers_retries_with_their_originals,
    a_reconnecting_client_gets_exactly_what_it_missed,
    history_pages_in_both_directions,
    edits_deletes_reactions_and_threads,
    unread_and_mention_counts,
    the_access_matrix_holds,
    a_removed_member_leaves_the_rooms_at_once,
    bad_chat_input_gets_clear_errors,
    sends_over_the_rate_are_refused,
);

/// A venture with alice (owner), bob (member) and vic (viewer); returns its room.
async fn venture_room(hub: &TestHub) -> String {
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "member").await;
    hub.add_member(&id, "alice", "vic", "viewer").await;
    format!("venture:{id}")
}

fn ids(entries: &Value) -> Vec<String> {
    let mut v: Vec<String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn presence_counts_users_not_tabs_and_hides_reloads(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.presence.grace = Duration::from_millis(300)).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    let joined = alice.join(&room).await;
    assert_eq!(ids(&joined["presence"]), vec!["alice"]);
    assert_eq!(joined["role"], "owner");

    let mut bob1 = Sio::connect(hub.addr, &hub.token("bob")).await;
    let joined = bob1.join(&room).await;
    assert_eq!(ids(&joined["presence"]), vec!["alice", "bob"]);
    let ev = alice.event("presence:join").await;
    assert_eq!(ev["room"], room.as_str());
    assert_eq!(ev["user"]["user_id"], "bob");
    assert_eq!(ev["user"]["name"], "Bob");
    assert_eq!(ev["user"]["status"], "online");
    let bob_since = ev["user"]["since"].clone();

    // A second tab: nobody hears of it.
    let mut bob2 = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob2.join(&room).await;
    bob2.say(&room, "m1", "from tab two").await;
    alice.event("chat:message").await;
    assert!(
        alice.received("presence:join").await.is_empty(),
        "two tabs count once"
    );

    // A reload (leave, come back within the grace): no leave, no join, same arrival.
    bob1.close().await;
    let mut bob3 = Sio::connect(hub.addr, &hub.token("bob")).await;
    let joined = bob3.join(&room).await;
    let bob_entry = joined["presence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_id"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(bob_entry["since"], bob_since);
    bob3.say(&room, "m2", "reloaded").await;
    alice
        .event_where("chat:message", |m| m["client_id"] == "m2")
        .await;
    assert!(alice.received("presence:leave").await.is_empty());
    assert!(alice.received("presence:join").await.is_empty());

    // The last tab closes: after the grace, one leave.
    bob2.close().await;
    bob3.close().await;
    let left = alice.event("presence:leave").await;
    assert_eq!(left, json!({"room": room, "user_id": "bob"}));
    let mut carol = Sio::connect(hub.addr, &hub.token("alice")).await;
    let joined = carol.join(&room).await;
    assert_eq!(ids(&joined["presence"]), vec!["alice"], "no ghost");
    hub.stop().await.unwrap();
}

async fn status_changes_are_updates_never_leave_and_join(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    alice.event("presence:join").await;
    bob.ok(
        "presence:set",
        json!({"status": "away", "meta": {"doc": "plan"}}),
    )
    .await;
    let ev = alice.event("presence:update").await;
    assert_eq!(ev["user"]["user_id"], "bob");
    assert_eq!(ev["user"]["status"], "away");
    assert_eq!(ev["user"]["meta"], json!({"doc": "plan"}));
    assert!(alice.received("presence:leave").await.is_empty());
    assert!(alice.received("presence:join").await.is_empty());
    // A later joiner sees the status.
    let mut bob_tab = Sio::connect(hub.addr, &hub.token("alice")).await;
    let joined = bob_tab.join(&room).await;
    let entry = joined["presence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_id"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "away");
    bob.fails("presence:set", json!({"status": "asleep"}), "invalid")
        .await;
    bob.fails(
        "presence:set",
        json!({"status": "busy", "meta": {"x": "y".repeat(2000)}}),
        "too_large",
    )
    .await;
    hub.stop().await.unwrap();
}

async fn typing_is_not_echoed_and_expires(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.presence.typing_ttl = Duration::from_millis(300)
    })
    .await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;

    bob.ok("typing:start", json!({"room": room})).await;
    let ev = alice.event("typing").await;
    assert_eq!(ev, json!({"room": room, "user_id": "bob", "typing": true}));
    // A refresh is not announced again.
    bob.ok("typing:start", json!({"room": room})).await;
    // Without further refresh, it expires by itself.
    let ev = alice.event("typing").await;
    assert_eq!(ev, json!({"room": room, "user_id": "bob", "typing": false}));
    assert!(
        bob.received("typing").await.is_empty(),
        "never echoed to the typist"
    );

    // An explicit stop; and the join ack lists current typists.
    bob.ok("typing:start", json!({"room": room})).await;
    alice.event_where("typing", |e| e["typing"] == true).await;
    let mut late = Sio::connect(hub.addr, &hub.token("alice")).await;
    assert_eq!(late.join(&room).await["typing"], json!(["bob"]));
    bob.ok("typing:stop", json!({"room": room})).await;
    alice.event_where("typing", |e| e["typing"] == false).await;
    // Sending a message ends typing too.
    bob.ok("typing:start", json!({"room": room})).await;
    alice.event_where("typing", |e| e["typing"] == true).await;
    bob.say(&room, "t1", "done typing").await;
    alice.event_where("typing", |e| e["typing"] == false).await;

    let mut vic = Sio::connect(hub.addr, &hub.token("vic")).await;
    vic.join(&room).await;
    vic.fails("typing:start", json!({"room": room}), "forbidden")
        .await;
    hub.stop().await.unwrap();
}

async fn a_retried_send_returns_the_original(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    let first = bob.say(&room, "retry-1", "hello").await;
    assert_eq!(first["seq"], 1);
    assert_eq!(first["author_id"], "bob");
    assert_eq!(first["client_id"], "retry-1");
    // The same client_id again, even with another body: the original comes back.
    let again = bob.say(&room, "retry-1", "hello?").await;
    assert_eq!(again, first);
    // From another connection of the same user too.
    let mut bob2 = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob2.join(&room).await;
    assert_eq!(bob2.say(&room, "retry-1", "hello").await["id"], first["id"]);
    // Another user may use the same client_id.
    let other = alice.say(&room, "retry-1", "mine").await;
    assert_eq!(other["seq"], 2);

    let page = alice.ok("chat:history", json!({"room": room})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    let delivered = alice.received("chat:message").await;
    assert_eq!(
        delivered.len(),
        1,
        "alice saw bob's message once: {delivered:?}"
    );
    assert_eq!(delivered[0], first);
    hub.stop().await.unwrap();
}

async fn concurrent_senders_get_gap_free_seqs(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let per_sender = 25;
    let mut tasks = Vec::new();
    for (n, user) in ["alice", "bob", "alice", "bob"].into_iter().enumerate() {
        let mut c = Sio::connect(hub.addr, &hub.token(user)).await;
        c.join(&room).await;
        let room = room.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..per_sender {
                let m = c
                    .say(
                        &room,
                        &format!("c{n}-{i}"),
                        &format!("message {i} from {n}"),
                    )
                    .await;
                seqs.push(m["seq"].as_i64().unwrap());
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let seqs = t.await.unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs increase: {seqs:?}"
        );
        all.extend(seqs);
    }
    all.sort();
    assert_eq!(all, (1..=(4 * per_sender as i64)).collect::<Vec<_>>());
    let mut reader = Sio::connect(hub.addr, &hub.token("alice")).await;
    let joined = reader.join(&room).await;
    assert_eq!(joined["last_seq"], 4 * per_sender);
    hub.stop().await.unwrap();
}

/// Many senders over several rooms at once: the sends share transactions (group commit), yet
/// every room's seqs are gap-free, a retry racing its original is stored once, and a member
/// hears each room's messages in seq order.
async fn group_commits_keep_rooms_gap_free_and_publish_in_seq_order(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut rooms = Vec::new();
    for name in ["One", "Two", "Three"] {
        let id = hub.venture("alice", name).await;
        hub.add_member(&id, "alice", "bob", "member").await;
        hub.add_member(&id, "alice", "carol", "member").await;
        rooms.push(format!("venture:{id}"));
    }
    let mut carol = Sio::connect(hub.addr, &hub.token("carol")).await;
    for room in &rooms {
        carol.join(room).await;
    }
    let per_sender = 12;
    let mut tasks = Vec::new();
    for n in 0..6 {
        let user = if n % 2 == 0 { "alice" } else { "bob" };
        let mut c = Sio::connect(hub.addr, &hub.token(user)).await;
        for room in &rooms {
            c.join(room).await;
        }
        let rooms = rooms.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in 0..per_sender {
                // Senders 0 and 2 (both alice) send the same client_ids to the same rooms:
                // each pair is one send and its retry, racing into the same commits.
                let like = if n == 2 { 0 } else { n };
                let room = &rooms[(like + i) % rooms.len()];
                let client_id = format!("c{like}-{i}");
                let m = c.say(room, &client_id, &format!("m{n}-{i}")).await;
                sent.push((room.clone(), m["id"].as_str().unwrap().to_owned(), m));
            }
            sent
        }));
    }
    let mut by_room: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    let mut ids = std::collections::BTreeSet::new();
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.unwrap());
    }
    // The retries came back as their originals: same id, same seq.
    for (a, b) in acked[0].iter().zip(&acked[2]) {
        assert_eq!(a.1, b.1, "a retry answers with the original");
        assert_eq!(a.2["seq"], b.2["seq"]);
    }
    for (room, id, m) in acked.iter().flatten() {
        if ids.insert(id.clone()) {
            by_room
                .entry(room.clone())
                .or_default()
                .push(m["seq"].as_i64().unwrap());
        }
    }
    let stored = 5 * per_sender;
    assert_eq!(ids.len(), stored, "one message per distinct client_id");
    for (room, seqs) in &mut by_room {
        seqs.sort();
        let n = seqs.len() as i64;
        assert_eq!(*seqs, (1..=n).collect::<Vec<_>>(), "{room}: gap-free seqs");
    }
    // Carol hears every stored message once, each room's in seq order.
    let mut heard: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for _ in 0..stored {
        let m = carol.event("chat:message").await;
        heard
            .entry(m["room"].as_str().unwrap().to_owned())
            .or_default()
            .push(m["seq"].as_i64().unwrap());
    }
    assert_eq!(heard, by_room, "published in seq order, each once");
    assert!(carol.received("chat:message").await.is_empty());
    hub.stop().await.unwrap();
}

/// One transaction of many sends over several rooms: each room's new messages take the seqs
/// after its last, in the order given; a retry (of a stored message, or twice in one batch)
/// answers with its original and takes no seq; a client_id reused in another room conflicts.
async fn a_group_commit_answers_retries_with_their_originals(backend: Backend) {
    use hub::store::{MessageRow, NewMessage, Store, StoreError};
    use hub_protocol::UserId;
    let hub = TestHub::start(backend).await;
    let store = Store::connect(&hub.db.url, 1).await.unwrap();
    // Authors must be users: a venture makes both.
    let venture = hub.venture("ann", "Batch").await;
    hub.add_member(&venture, "ann", "ben", "member").await;
    let (ann, ben) = (&UserId::from("ann"), &UserId::from("ben"));
    fn new<'a>(room: &'a str, author: &'a UserId, client_id: &'a str) -> NewMessage<'a> {
        NewMessage {
            room,
            author,
            client_id,
            body: "hi",
            reply_to: None,
            mentions: &[],
        }
    }
    let seqs = |results: &[Result<(MessageRow, bool), StoreError>]| {
        results
            .iter()
            .map(|r| match r {
                Ok((m, created)) => Ok((m.room.to_string(), m.seq, *created)),
                Err(e) => Err(e.code()),
            })
            .collect::<Vec<_>>()
    };
    let first = store
        .chat_commit(
            &[
                new("r:b", ann, "1"),
                new("r:a", ben, "1"),
                new("r:b", ben, "2"),
                new("r:b", ann, "2"),
            ],
            None,
        )
        .await
        .unwrap();
    let ok = |room: &str, seq: i64, created: bool| Ok((room.to_owned(), seq, created));
    assert_eq!(
        seqs(&first),
        [
            ok("r:b", 1, true),
            ok("r:a", 1, true),
            ok("r:b", 2, true),
            ok("r:b", 3, true)
        ]
    );
    let second = store
        .chat_commit(
            &[
                new("r:a", ann, "3"),
                new("r:b", ben, "2"),
                new("r:a", ann, "3"),
                new("r:b", ben, "1"),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        seqs(&second),
        [
            ok("r:a", 2, true),
            ok("r:b", 2, false),
            ok("r:a", 2, false),
            Err(hub_protocol::ErrorCode::Conflict)
        ]
    );
    let id = |r: &Result<(MessageRow, bool), StoreError>| r.as_ref().unwrap().0.id.clone();
    assert_eq!(id(&second[1]), id(&first[2]), "the stored original");
    assert_eq!(
        id(&second[2]),
        id(&second[0]),
        "the original from the same batch"
    );
    let third = store
        .chat_commit(&[new("r:b", ann, "4")], None)
        .await
        .unwrap();
    assert_eq!(
        seqs(&third),
        [ok("r:b", 4, true)],
        "the retries took no seq"
    );
    let (page, _) = store.chat_history("r:b", None, None, 50).await.unwrap();
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    hub.stop().await.unwrap();
}

async fn a_reconnecting_client_gets_exactly_what_it_missed(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    for i in 0..5 {
        alice.say(&room, &format!("before-{i}"), "earlier").await;
    }
    let mut carol = Sio::connect(hub.addr, &hub.token("bob")).await;
    let seen = carol.join(&room).await["last_seq"].as_i64().unwrap();
    assert_eq!(seen, 5);
    carol.close().await;
    for i in 0..50 {
        alice
            .say(&room, &format!("missed-{i}"), &format!("missed {i}"))
            .await;
    }
    let mut carol = Sio::connect(hub.addr, &hub.token("bob")).await;
    let joined = carol
        .ok("room:join", json!({"room": room, "since": seen}))
        .await;
    assert_eq!(joined["recovered"], true);
    let missed = joined["missed"].as_array().unwrap();
    assert_eq!(missed.len(), 50);
    let seqs: Vec<i64> = missed.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (6..=55).collect::<Vec<_>>());
    assert_eq!(missed[0]["body"], "missed 0");
    assert_eq!(missed[49]["body"], "missed 49");
    assert_eq!(joined["unread"], 55);

    // Up to date: nothing missed. From the future: not recovered.
    let joined = carol
        .ok("room:join", json!({"room": room, "since": 55}))
        .await;
    assert_eq!(
        (joined["missed"].clone(), joined["recovered"].clone()),
        (json!([]), json!(true))
    );
    let joined = carol
        .ok("room:join", json!({"room": room, "since": 999}))
        .await;
    assert_eq!(joined["recovered"], false);

    // More than the limit missed: the first page, and `recovered: false`.
    for i in 0..(hub_protocol::rooms::MISSED_LIMIT - 55 + 10) {
        alice.say(&room, &format!("bulk-{i}"), "bulk").await;
    }
    let joined = carol
        .ok("room:join", json!({"room": room, "since": 0}))
        .await;
    assert_eq!(joined["recovered"], false);
    let missed = joined["missed"].as_array().unwrap();
    assert_eq!(missed.len(), hub_protocol::rooms::MISSED_LIMIT);
    assert_eq!(missed[0]["seq"], 1);
    hub.stop().await.unwrap();
}

async fn history_pages_in_both_directions(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    for i in 1..=30 {
        alice.say(&room, &format!("h{i}"), &format!("#{i}")).await;
    }
    let seqs = |page: &Value| -> Vec<i64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let page = alice
        .ok("chat:history", json!({"room": room, "limit": 10}))
        .await;
    assert_eq!(
        (seqs(&page), page["has_more"].clone()),
        ((21..=30).collect(), json!(true))
    );
    let page = alice
        .ok(
            "chat:history",
            json!({"room": room, "limit": 10, "before": 21}),
        )
        .await;
    assert_eq!(
        (seqs(&page), page["has_more"].clone()),
        ((11..=20).collect(), json!(true))
    );
    let page = alice
        .ok(
            "chat:history",
            json!({"room": room, "limit": 10, "before": 11}),
        )
        .await;
    assert_eq!(
        (seqs(&page), page["has_more"].clone()),
        ((1..=10).collect(), json!(false))
    );
    let page = alice
        .ok(
            "chat:history",
            json!({"room": room, "limit": 10, "after": 25}),
        )
        .await;
    assert_eq!(
        (seqs(&page), page["has_more"].clone()),
        ((26..=30).collect(), json!(false))
    );
    let page = alice
        .ok(
            "chat:history",
            json!({"room": room, "after": 0, "limit": 3}),
        )
        .await;
    assert_eq!(
        (seqs(&page), page["has_more"].clone()),
        (vec![1, 2, 3], json!(true))
    );
    let page = alice.ok("chat:history", json!({"room": room})).await;
    assert_eq!(seqs(&page).len(), 30, "default limit 50");
    alice
        .fails("chat:history", json!({"room": room, "limit": 0}), "invalid")
        .await;
    alice
        .fails(
            "chat:history",
            json!({"room": room, "limit": 101}),
            "invalid",
        )
        .await;
    alice
        .fails(
            "chat:history",
            json!({"room": room, "before": 5, "after": 1}),
            "invalid",
        )
        .await;
    hub.stop().await.unwrap();
}

async fn edits_deletes_reactions_and_threads(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    let root = alice.say(&room, "root", "plan for Q3?").await;
    let root_id = root["id"].as_str().unwrap().to_owned();
    let r1 = bob
        .ok(
            "chat:send",
            json!({"room": room, "client_id": "r1", "body": "ship it", "reply_to": root_id}),
        )
        .await["message"]
        .clone();
    assert_eq!(r1["reply_to"], root_id.as_str());
    bob.ok(
        "chat:send",
        json!({"room": room, "client_id": "r2", "body": "and test it", "reply_to": root_id}),
    )
    .await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "r3", "body": "nested", "reply_to": r1["id"]}),
        "invalid",
    )
    .await;
    let thread = alice
        .ok("chat:thread", json!({"room": room, "id": root_id}))
        .await;
    assert_eq!(thread["root"]["id"], root_id.as_str());
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["ship it", "and test it"]);

    // Edits: the author only.
    let edited = bob
        .ok(
            "chat:edit",
            json!({"room": room, "id": r1["id"], "body": "ship it now"}),
        )
        .await["message"]
        .clone();
    assert_eq!(edited["body"], "ship it now");
    assert!(edited["edited_at"].is_string());
    assert_eq!(edited["seq"], r1["seq"]);
    let seen = alice
        .event_where("chat:updated", |m| m["id"] == r1["id"])
        .await;
    assert_eq!(seen, edited);
    alice
        .fails(
            "chat:edit",
            json!({"room": room, "id": r1["id"], "body": "mine now"}),
            "forbidden",
        )
        .await;

    // Reactions, in order, added and removed.
    bob.ok(
        "chat:react",
        json!({"room": room, "id": root_id, "emoji": "👍", "add": true}),
    )
    .await;
    let m = alice
        .ok(
            "chat:react",
            json!({"room": room, "id": root_id, "emoji": "👍", "add": true}),
        )
        .await["message"]
        .clone();
    assert_eq!(m["reactions"], json!({"👍": ["bob", "alice"]}));
    let m = bob
        .ok(
            "chat:react",
            json!({"room": room, "id": root_id, "emoji": "👍", "add": false}),
        )
        .await["message"]
        .clone();
    assert_eq!(m["reactions"], json!({"👍": ["alice"]}));
    let seen = bob
        .event_where("chat:updated", |m| {
            m["reactions"] == json!({"👍": ["alice"]})
        })
        .await;
    assert_eq!(seen["id"], root_id.as_str());

    // Deletes: the author or a room owner/admin; a tombstone stays.
    alice
        .fails(
            "chat:delete",
            json!({"room": room, "id": "nope"}),
            "not_found",
        )
        .await;
    bob.fails(
        "chat:delete",
        json!({"room": room, "id": root_id}),
        "forbidden",
    )
    .await;
    let gone = alice
        .ok("chat:delete", json!({"room": room, "id": r1["id"]}))
        .await["message"]
        .clone();
    assert_eq!(
        (gone["deleted"].clone(), gone["body"].clone()),
        (json!(true), json!(""))
    );
    assert_eq!(gone["seq"], r1["seq"]);
    let seen = bob
        .event_where("chat:updated", |m| m["deleted"] == true)
        .await;
    assert_eq!(seen["id"], r1["id"]);
    bob.fails(
        "chat:edit",
        json!({"room": room, "id": r1["id"], "body": "back"}),
        "conflict",
    )
    .await;
    bob.fails(
        "chat:react",
        json!({"room": room, "id": r1["id"], "emoji": "x", "add": true}),
        "conflict",
    )
    .await;
    let page = alice.ok("chat:history", json!({"room": room})).await;
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        3,
        "the tombstone keeps its place"
    );
    hub.stop().await.unwrap();
}

async fn unread_and_mention_counts(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    alice.say(&room, "u1", "good morning").await;
    alice.say(&room, "u2", "@vic see this").await;
    let m3 = alice.say(&room, "u3", "@Bob can you review?").await;
    let note = bob.event("notification").await;
    assert_eq!(note["kind"], "mention");
    assert_eq!(note["read"], false);
    assert_eq!(note["data"]["room"], room.as_str());
    assert_eq!(note["data"]["message_id"], m3["id"]);
    assert_eq!(note["data"]["author_id"], "alice");
    assert_eq!(note["data"]["excerpt"], "@Bob can you review?");
    // Stored too: the list holds it, unread, until bob marks it read.
    let (status, list) = hub.get("/api/v1/notifications", &hub.token("bob")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["notifications"][0], note);
    assert_eq!(list["notifications"][1]["kind"], "member_added");
    assert_eq!(list["notifications"][2]["kind"], "member_invited");
    assert_eq!(list["unread_count"], 3);

    let rooms = |v: &Value| {
        v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room"] == room.as_str())
            .cloned()
            .unwrap()
    };
    let (status, list) = hub.get("/api/v1/rooms", &hub.token("bob")).await;
    assert_eq!(status, 200);
    let mine = rooms(&list);
    assert_eq!(
        (
            mine["unread"].clone(),
            mine["mentions"].clone(),
            mine["last_seq"].clone()
        ),
        (json!(3), json!(1), json!(3))
    );
    assert_eq!(mine["kind"], "venture");
    assert_eq!(mine["name"], "Acme");
    assert_eq!(mine["role"], "member");
    let (_, list) = hub.get("/api/v1/rooms", &hub.token("vic")).await;
    assert_eq!(rooms(&list)["mentions"], 1);
    let (_, list) = hub.get("/api/v1/rooms", &hub.token("alice")).await;
    assert_eq!(rooms(&list)["unread"], 0, "my own messages are not unread");

    assert_eq!(
        bob.ok("chat:read", json!({"room": room, "seq": 2})).await["unread"],
        1
    );
    let (_, list) = hub.get("/api/v1/rooms", &hub.token("bob")).await;
    assert_eq!(
        (
            rooms(&list)["unread"].clone(),
            rooms(&list)["mentions"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(
        bob.ok("chat:read", json!({"room": room, "seq": 1})).await["unread"],
        1,
        "never moves back"
    );
    assert_eq!(
        bob.ok("chat:read", json!({"room": room, "seq": 99})).await["unread"],
        0
    );
    let (_, list) = hub.get("/api/v1/rooms", &hub.token("bob")).await;
    assert_eq!(
        (
            rooms(&list)["unread"].clone(),
            rooms(&list)["mentions"].clone()
        ),
        (json!(0), json!(0))
    );
    let mut bob2 = Sio::connect(hub.addr, &hub.token("bob")).await;
    assert_eq!(bob2.join(&room).await["unread"], 0);
    let more = alice.say(&room, "u4", "one more").await;
    let joined = bob2.join(&room).await;
    assert_eq!(
        (joined["unread"].clone(), joined["last_seq"].clone()),
        (json!(1), more["seq"].clone())
    );
    // A deleted message is no longer unread; the room's last seq stays.
    alice
        .ok("chat:delete", json!({"room": room, "id": more["id"]}))
        .await;
    let joined = bob2.join(&room).await;
    assert_eq!(
        (joined["unread"].clone(), joined["last_seq"].clone()),
        (json!(0), more["seq"].clone())
    );
    let (_, list) = hub.get("/api/v1/rooms", &hub.token("bob")).await;
    assert_eq!(rooms(&list)["unread"], 0);
    assert_eq!(rooms(&list)["last_seq"], more["seq"]);
    hub.stop().await.unwrap();
}

async fn the_access_matrix_holds(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let venture = room.trim_start_matches("venture:").to_owned();
    let (_, team) = hub
        .post(
            &format!("/api/v1/ventures/{venture}/teams"),
            &hub.token("alice"),
            json!({"name": "Core"}),
        )
        .await;
    let team_room = format!("team:{}", team["id"].as_str().unwrap());

    let mut mallory = Sio::connect(hub.addr, &hub.token("mallory")).await;
    mallory
        .fails("room:join", json!({"room": room}), "forbidden")
        .await;
    mallory
        .fails(
            "chat:send",
            json!({"room": room, "client_id": "x", "body": "hi"}),
            "forbidden",
        )
        .await;
    mallory
        .fails("chat:history", json!({"room": room}), "forbidden")
        .await;
    for forged in [
        "lobby",
        "venture:",
        "venture:a:b",
        "venture:has space",
        "Venture:x",
    ] {
        mallory
            .fails("room:join", json!({"room": forged}), "invalid")
            .await;
    }
    mallory
        .fails("room:join", json!({"room": "user:alice"}), "forbidden")
        .await;
    mallory
        .fails(
            "room:join",
            json!({"room": format!("team:{}", "nope")}),
            "forbidden",
        )
        .await;
    mallory
        .fails("room:join", json!({"rooms": room}), "invalid")
        .await;

    // The viewer reads but does not write.
    let mut vic = Sio::connect(hub.addr, &hub.token("vic")).await;
    assert_eq!(vic.join(&room).await["role"], "viewer");
    vic.fails(
        "chat:send",
        json!({"room": room, "client_id": "v", "body": "hi"}),
        "forbidden",
    )
    .await;
    vic.ok("chat:history", json!({"room": room})).await;
    vic.ok("chat:read", json!({"room": room, "seq": 0})).await;

    // Events on a room not joined are refused.
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "b", "body": "hi"}),
        "forbidden",
    )
    .await;
    bob.join(&room).await;
    bob.say(&room, "b", "hi").await;

    // Team rooms: team members and the venture's owners and admins.
    bob.fails("room:join", json!({"room": team_room}), "forbidden")
        .await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    assert_eq!(alice.join(&team_room).await["role"], "owner");
    // Invited to the team, bob is not in it until he accepts.
    let team_members = format!("/api/v1/teams/{}/members", team["id"].as_str().unwrap());
    let (status, invited) = hub
        .post(
            &team_members,
            &hub.token("alice"),
            json!({"user_id": "bob"}),
        )
        .await;
    assert_eq!(status, 202, "{invited}");
    bob.fails("room:join", json!({"room": team_room}), "forbidden")
        .await;
    let id = invited["invitation"]["id"].as_str().unwrap();
    let (status, _) = hub
        .post(
            &format!("/api/v1/invitations/{id}/accept"),
            &hub.token("bob"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(bob.join(&team_room).await["role"], "member");

    // Leaving ends access to room events.
    bob.ok("room:leave", json!({"room": room})).await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "b2", "body": "hi"}),
        "forbidden",
    )
    .await;
    hub.stop().await.unwrap();
}

async fn a_removed_member_leaves_the_rooms_at_once(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let room = venture_room(&hub).await;
    let venture = room.trim_start_matches("venture:").to_owned();
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    alice.event("presence:join").await;

    let (status, _) = hub
        .delete(
            &format!("/api/v1/ventures/{venture}/members/bob"),
            &hub.token("alice"),
        )
        .await;
    assert_eq!(status, 204);
    let removed = bob.event("room:removed").await;
    assert_eq!(removed["room"], room.as_str());
    let left = alice.event("presence:leave").await;
    assert_eq!(left["user_id"], "bob");
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "k", "body": "still here?"}),
        "forbidden",
    )
    .await;
    bob.fails("room:join", json!({"room": room}), "forbidden")
        .await;
    alice.say(&room, "after", "bob is gone").await;
    assert!(
        bob.received("chat:message").await.is_empty(),
        "no more messages reach the removed member"
    );
    hub.stop().await.unwrap();
}

async fn bad_chat_input_gets_clear_errors(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| c.chat.max_body_chars = 20).await;
    let room = venture_room(&hub).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "a", "body": "x".repeat(21)}),
        "too_large",
    )
    .await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "a", "body": "   "}),
        "invalid",
    )
    .await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "", "body": "hi"}),
        "invalid",
    )
    .await;
    bob.fails("chat:send", json!({"room": room, "body": "hi"}), "invalid")
        .await;
    bob.fails("chat:send", json!("just a string"), "invalid")
        .await;
    bob.fails(
        "chat:send",
        json!({"room": room, "client_id": "a", "body": "hi", "reply_to": "nope"}),
        "invalid",
    )
    .await;
    bob.fails(
        "chat:react",
        json!({"room": room, "id": "x", "emoji": "a b", "add": true}),
        "invalid",
    )
    .await;
    bob.fails("chat:read", json!({"room": room, "seq": "ten"}), "invalid")
        .await;
    // Nothing was stored by the failures.
    assert_eq!(bob.say(&room, "ok", "twenty chars exactly").await["seq"], 1);
    hub.stop().await.unwrap();
}

async fn sends_over_the_rate_are_refused(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.chat.rate_per_second = 0.001;
        c.chat.burst = 3;
    })
    .await;
    let room = venture_room(&hub).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    for i in 0..3 {
        bob.say(&room, &format!("r{i}"), "hi").await;
    }
    let err = bob
        .fails(
            "chat:send",
            json!({"room": room, "client_id": "r3", "body": "hi"}),
            "rate_limited",
        )
        .await;
    assert!(err["error"]["message"].is_string());
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    alice.say(&room, "a0", "the limit is per user").await;
    hub.stop().await.unwrap();
}

/// Transport-level, and it reads a process-wide counter: one run, not one per backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_keep_up_is_disconnected() {
    let hub = TestHub::start_with(Backend::Sqlite, |c| {
        c.socket.max_buffer_size = 2;
        c.chat.max_body_chars = 200_000;
    })
    .await;
    let room = venture_room(&hub).await;
    let before = hub.metric("hub_socket_slow_consumers_total").await;

    // Bob joins and then stops reading: the kernel buffers fill, then his 2-packet buffer.
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let body = "x".repeat(150_000);
    let mut sent = 0;
    let after = loop {
        alice.say(&room, &format!("big-{sent}"), &body).await;
        sent += 1;
        let now = hub.metric("hub_socket_slow_consumers_total").await;
        if now > before {
            break now;
        }
        assert!(sent < 2_000, "bob was never disconnected");
    };
    assert!(after >= before + 1.0);
    // Bob reads again: what was queued for him comes, then the disconnect, sent as soon as
    // there was room for it. Nothing more reaches him.
    loop {
        match bob.ws.recv().await {
            common::eio::Frame::Text(t) if t == "41" => break,
            common::eio::Frame::Closed => panic!("expected a namespace disconnect"),
            _ => {}
        }
    }
    // Nothing was lost for the room: the messages are stored, and bob resyncs on reconnect.
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    let joined = bob.ok("room:join", json!({"room": room, "since": 0})).await;
    assert_eq!(joined["missed"].as_array().unwrap().len(), sent);
    hub.stop().await.unwrap();
}

/// The per-socket buffers are small and grow only for what they carry: a 256-byte read buffer,
/// a packet queue whose slots are allocated 32 at a time, a write buffer that keeps 1 KiB once
/// written out. A burst well past 32 packets, and messages many times those sizes in both
/// directions, still arrive whole and in seq order, and the socket stays usable afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_and_long_messages_cross_the_small_socket_buffers() {
    let hub = TestHub::start_with(Backend::Sqlite, |c| {
        c.socket.ws_read_buffer_size = 256;
        c.chat.max_body_chars = 100_000;
        c.chat.burst = 1_000;
    })
    .await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;

    // 150 sends without waiting for their acks: alice gets 150 messages queued back to back.
    let bodies: Vec<String> = (0..150)
        .map(|i| match i % 50 {
            // Every 50th is 60 KB: 240 reads of bob's buffer, many times the kept write buffer.
            0 => format!("{i}:{}", "é".repeat(30_000)),
            _ => format!("{i}: short"),
        })
        .collect();
    for (i, body) in bodies.iter().enumerate() {
        bob.emit(
            "chat:send",
            json!({"room": room, "client_id": format!("burst-{i}"), "body": body}),
        )
        .await;
    }
    let mut acked = 0;
    while acked < bodies.len() {
        let (_, ack) = bob.next_ack().await;
        assert_eq!(ack["ok"], true, "{ack}");
        acked += 1;
    }
    let mut seen = Vec::new();
    while seen.len() < bodies.len() {
        seen.push(alice.event("chat:message").await);
    }
    // Sends not waiting for their acks are handled concurrently, so the room's order is the
    // order they were stored in (their seqs), which is the order alice hears them in.
    let seqs: Vec<i64> = seen.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=150).collect::<Vec<_>>());
    let mut got: Vec<&str> = seen.iter().map(|m| m["body"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = bodies.iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert!(got == want, "alice got every message of the burst whole");

    // After the burst both sockets still carry a long message each way.
    let long = "z".repeat(90_000);
    let back = alice.say(&room, "after", &long).await;
    assert_eq!(back["seq"], 151);
    assert_eq!(bob.event("chat:message").await["body"], long);
    hub.stop().await.unwrap();
}
