//! Figures for the presence registry at the size of one busy node: 19,000 users, each with one
//! connection, in 190 rooms of 100.
//! - a disconnect storm: every connection leaves (what a node sees when a load balancer drops
//!   its clients), then the graces expire;
//! - the timer pass with nobody leaving (what every node runs ten times a second);
//! - joins of all 19,000.
//!
//! Run: `cargo bench -p hub-rooms --bench presence`.

use hub_protocol::UserId;
use hub_rooms::presence::{ConnId, PresenceRegistry};
use std::time::{Duration, Instant};

const ROOMS: usize = 190;
const USERS: usize = 19_000;
const GRACE: Duration = Duration::from_secs(5);

fn filled() -> (PresenceRegistry, Vec<(String, ConnId, UserId)>) {
    let mut reg = PresenceRegistry::new(GRACE);
    let conns: Vec<_> = (0..USERS)
        .map(|i| {
            (
                format!("venture:v{}", i % ROOMS),
                ConnId::new("node-a", format!("sid-{i}")),
                UserId::from(format!("user-{i}").as_str()),
            )
        })
        .collect();
    for (room, conn, user) in &conns {
        reg.add(
            room,
            conn.clone(),
            user,
            user.as_str(),
            "2026-12-02T00:00:00Z",
        );
    }
    (reg, conns)
}

fn main() {
    let now = Instant::now();
    let started = Instant::now();
    let (mut reg, conns) = filled();
    let joins = started.elapsed();

    let started = Instant::now();
    let passes = 200;
    let mut due = 0;
    for _ in 0..passes {
        due += reg.expire(now).len();
        std::hint::black_box(reg.next_due());
    }
    let idle_pass = started.elapsed() / passes;
    assert_eq!(due, 0);

    let started = Instant::now();
    for (_, conn, user) in &conns {
        for room in reg.rooms_of(user, conn) {
            std::hint::black_box(reg.remove(&room, conn, now));
        }
    }
    let storm = started.elapsed();
    let started = Instant::now();
    let left = reg.expire(now + GRACE).len();
    let expire_all = started.elapsed();
    assert_eq!(left, USERS);

    println!(
        "presence registry, {USERS} users in {ROOMS} rooms of {}:",
        USERS / ROOMS
    );
    println!(
        "  {USERS} joins:                      {:>10.1} ms ({:.2} µs each)",
        ms(joins),
        us(joins) / USERS as f64
    );
    println!(
        "  timer pass, nobody leaving:        {:>10.3} ms",
        ms(idle_pass)
    );
    println!(
        "  disconnect storm, {USERS} sockets: {:>10.1} ms ({:.2} µs each)",
        ms(storm),
        us(storm) / USERS as f64
    );
    println!(
        "  then {USERS} leaves expire:        {:>10.1} ms",
        ms(expire_all)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
