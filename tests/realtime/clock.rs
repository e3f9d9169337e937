//! The rules that depend on time follow the hub's clock, not the machine's: a hub on a manual
//! clock refills rate limits, expires typing, ends presence grace and stamps stored times only
//! when the test moves the clock.

use crate::common;

use common::sio::Sio;
use common::{Backend, TestDb, TestHub};
use hub::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The manual clock starts at the machine's current second (tokens minted by the tests expire
/// by the hub's clock too), and moves only when a test says.
fn start_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now - now % 1000
}

fn at(ms: i64) -> String {
    hub::store::rfc3339(ms)
}

async fn hub_on(clock: &Arc<ManualClock>, tweak: impl FnOnce(&mut hub::Config)) -> TestHub {
    let runtime = hub::Runtime {
        clock: clock.clone(),
        ..hub::Runtime::default()
    };
    TestHub::start_in(TestDb::new(Backend::Sqlite).await, runtime, tweak).await
}

async fn venture_room(hub: &TestHub) -> String {
    let id = hub.venture("alice", "Acme").await;
    hub.add_member(&id, "alice", "bob", "member").await;
    format!("venture:{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_allowance_refills_with_the_clock_and_messages_carry_its_time() {
    let start = start_ms();
    let clock = ManualClock::new(start);
    let hub = hub_on(&clock, |c| {
        c.chat.rate_per_second = 1.0;
        c.chat.burst = 2;
    })
    .await;
    let room = venture_room(&hub).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    bob.join(&room).await;
    let first = bob.say(&room, "m1", "one").await;
    assert_eq!(first["created_at"], at(start));
    bob.say(&room, "m2", "two").await;
    let over = json!({"room": room, "client_id": "m3", "body": "three"});
    bob.fails("chat:send", over.clone(), "rate_limited").await;
    // More than a second of the machine's time: the hub's clock has not moved, so neither has
    // the allowance.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    bob.fails("chat:send", over.clone(), "rate_limited").await;
    clock.advance(Duration::from_millis(90_000));
    let later = bob.ok("chat:send", over).await;
    assert_eq!(later["message"]["created_at"], at(start + 90_000));
    assert_eq!(later["message"]["seq"], 3);
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_and_presence_grace_end_when_the_clock_says() {
    let start = start_ms();
    let clock = ManualClock::new(start);
    let hub = hub_on(&clock, |c| {
        c.presence.typing_ttl = Duration::from_secs(5);
        c.presence.grace = Duration::from_secs(10);
    })
    .await;
    let room = venture_room(&hub).await;
    let mut alice = Sio::connect(hub.addr, &hub.token("alice")).await;
    alice.join(&room).await;
    let mut bob = Sio::connect(hub.addr, &hub.token("bob")).await;
    let joined = bob.join(&room).await;
    let me = joined["presence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "bob")
        .cloned()
        .unwrap();
    assert_eq!(me["since"], at(start));

    bob.ok("typing:start", json!({"room": room})).await;
    let on = alice.event("typing").await;
    assert_eq!(on["typing"], true);
    // Several of the hub's timer ticks pass in the machine's time; typing stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(alice.received("typing").await.is_empty());
    clock.advance(Duration::from_secs(6));
    let off = alice.event("typing").await;
    assert_eq!(
        off,
        json!({"room": room, "user_id": "bob", "typing": false})
    );

    bob.close().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        alice.received("presence:leave").await.is_empty(),
        "the grace has not passed on the hub's clock"
    );
    clock.advance(Duration::from_secs(11));
    let left = alice.event("presence:leave").await;
    assert_eq!(left, json!({"room": room, "user_id": "bob"}));
    hub.stop().await.unwrap();
}
