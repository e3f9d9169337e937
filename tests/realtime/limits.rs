//! REST abuse limits on the hub's clock: requests without a token count per client IP, with
//! one per user; over the quota, `429 rate_limited` with `Retry-After`, until the clock has
//! refilled the allowance. Hand-computed: 3 per 15 minutes is one every 300 s; 5 per minute is
//! one every 12 s.

use crate::common;

use common::{Backend, TestDb, TestHub};
use hub::clock::ManualClock;
use hub_rooms::rate::Quota;
use std::time::Duration;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

on_both_backends!(
    anonymous_requests_count_per_address_and_users_per_user,
    behind_a_trusted_proxy_the_forwarded_address_counts,
    connections_are_capped_per_user_and_address_and_handshakes_per_address,
);

async fn hub(
    backend: Backend,
    clock: &std::sync::Arc<ManualClock>,
    forwarded: hub::limits::Forwarded,
) -> TestHub {
    let runtime = hub::Runtime {
        clock: clock.clone(),
        ..hub::Runtime::default()
    };
    TestHub::start_in(TestDb::new(backend).await, runtime, move |c| {
        c.rest_limits.anonymous = Quota::parse("3/15m").unwrap();
        c.rest_limits.user = Quota::parse("5/1m").unwrap();
        c.rest_limits.forwarded = forwarded;
    })
    .await
}

/// `GET /api/v1/me` with `token` and `forwarded_for`: the status and `Retry-After`.
async fn me(
    hub: &TestHub,
    token: Option<&str>,
    forwarded_for: Option<&str>,
) -> (u16, Option<String>) {
    let mut req = hub.http.get(hub.url("/api/v1/me"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    let resp = req.send().await.unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status().as_u16();
    if status == 429 {
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }
    (status, retry)
}

async fn anonymous_requests_count_per_address_and_users_per_user(backend: Backend) {
    let clock = ManualClock::new(now_ms());
    let hub = hub(backend, &clock, hub::limits::Forwarded::Ignored).await;
    let (alice, bob) = (hub.token("alice"), hub.token("bob"));

    for _ in 0..3 {
        assert_eq!(me(&hub, None, None).await, (401, None));
    }
    assert_eq!(me(&hub, None, None).await, (429, Some("300".into())));
    // A forged X-Forwarded-For changes nothing unless the hub trusts its proxy.
    assert_eq!(me(&hub, None, Some("203.0.113.9")).await.0, 429);
    // Nor does a token in the URL, which REST authentication does not read: it is anonymous.
    let with_query = hub
        .http
        .get(hub.url(&format!("/api/v1/me?token={}", hub.token("alice"))))
        .send()
        .await
        .unwrap();
    assert_eq!(with_query.status().as_u16(), 429);

    for _ in 0..5 {
        assert_eq!(me(&hub, Some(&alice), None).await.0, 200);
    }
    assert_eq!(me(&hub, Some(&alice), None).await, (429, Some("12".into())));
    assert_eq!(me(&hub, Some(&bob), None).await.0, 200, "per user");

    clock.advance(Duration::from_secs(12));
    assert_eq!(me(&hub, Some(&alice), None).await.0, 200);
    assert_eq!(me(&hub, Some(&alice), None).await.0, 429);
    assert_eq!(
        me(&hub, None, None).await.0,
        429,
        "288 s left for the address"
    );
    clock.advance(Duration::from_secs(288));
    assert_eq!(me(&hub, None, None).await.0, 401);
    // Health and metrics are not REST calls and are never limited.
    for _ in 0..10 {
        let (status, _) = hub
            .call(reqwest::Method::GET, "/api/health", None, None)
            .await;
        assert_eq!(status, 200);
    }
    hub.stop().await.unwrap();
}

async fn behind_a_trusted_proxy_the_forwarded_address_counts(backend: Backend) {
    let clock = ManualClock::new(now_ms());
    // One proxy that appends the address it saw: the client writes whatever it likes on the
    // left, the proxy's entry is the right-most.
    let hub = hub(backend, &clock, hub::limits::Forwarded::Hops(1)).await;
    for i in 0..3 {
        let forged = format!("198.51.100.{i}, 203.0.113.1");
        assert_eq!(me(&hub, None, Some(&forged)).await.0, 401);
    }
    assert_eq!(
        me(&hub, None, Some("198.51.100.77, 203.0.113.1")).await.0,
        429,
        "a new forged left entry buys nothing"
    );
    assert_eq!(
        me(&hub, None, Some("203.0.113.1, 203.0.113.2")).await.0,
        401,
        "another client"
    );
    hub.stop().await.unwrap();
    // Named proxies: the right-most entry that is not one of them (the peer is 127.0.0.1).
    let proxies = vec![
        "127.0.0.0/8".parse().unwrap(),
        "10.0.0.0/8".parse().unwrap(),
    ];
    let hub = self::hub(backend, &clock, hub::limits::Forwarded::Proxies(proxies)).await;
    for i in 0..3 {
        let forged = format!("198.51.100.{i}, 203.0.113.5, 10.1.2.3");
        assert_eq!(me(&hub, None, Some(&forged)).await.0, 401);
    }
    assert_eq!(me(&hub, None, Some("203.0.113.5")).await.0, 429);
    hub.stop().await.unwrap();
}

/// Live connections, Socket.IO and `/yjs` together, are capped per user and per address, and
/// handshakes per address: over a limit the handshake is refused with `rate_limited` (a
/// `connect_error` over Socket.IO, `429` on the `/yjs` upgrade), and a connection that ends
/// gives its place back.
async fn connections_are_capped_per_user_and_address_and_handshakes_per_address(backend: Backend) {
    use common::eio::WsClient;
    use common::yjs::YClient;
    let db = TestDb::new(backend).await;
    let hub = TestHub::start_on(db, |c| {
        c.conn_limits = hub_rooms::conns::ConnLimits {
            per_user: 3,
            per_ip: 5,
            handshakes_per_ip: None,
        };
    })
    .await;
    let (alice, bob) = (hub.token("alice"), hub.token("bob"));
    let doc = {
        let venture = hub.venture("alice", "Acme").await;
        let (status, doc) = hub
            .post(
                "/api/v1/docs",
                &alice,
                serde_json::json!({"room": format!("venture:{venture}"), "title": "D"}),
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        doc["id"].as_str().unwrap().to_owned()
    };
    let mut alices = Vec::new();
    for _ in 0..2 {
        alices.push(WsClient::connected(hub.addr, &alice).await);
    }
    let yjs = YClient::connect(hub.addr, &doc, Some(&alice))
        .await
        .expect("the third");
    let (_, refused) = WsClient::connect(hub.addr, Some(&alice)).await;
    assert!(refused.starts_with("44"), "{refused}");
    assert!(
        refused.contains("rate_limited: this user holds 3"),
        "{refused}"
    );
    assert_eq!(
        YClient::connect(hub.addr, &doc, Some(&alice)).await.err(),
        Some(429)
    );
    // Bob has his own allowance, but the address holds 5 at most.
    let _b1 = WsClient::connected(hub.addr, &bob).await;
    let _b2 = WsClient::connected(hub.addr, &bob).await;
    let (_, refused) = WsClient::connect(hub.addr, Some(&bob)).await;
    assert!(refused.contains("this address holds 5"), "{refused}");
    // A connection that ends gives its place back.
    drop(yjs);
    let mut back = None;
    for _ in 0..200 {
        let (c, answer) = WsClient::connect(hub.addr, Some(&alice)).await;
        if answer.starts_with("40{") {
            back = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        back.is_some(),
        "the closed /yjs connection's place came back"
    );
    hub.stop().await.unwrap();

    // Handshakes per address, refused ones included: 4 per hour.
    let db = TestDb::new(backend).await;
    let hub = TestHub::start_on(db, |c| {
        c.conn_limits = hub_rooms::conns::ConnLimits {
            per_user: 0,
            per_ip: 0,
            handshakes_per_ip: Some(Quota::parse("4/1h").unwrap()),
        };
    })
    .await;
    let (_, first) = WsClient::connect(hub.addr, Some("forged")).await;
    assert!(first.contains("unauthorized"), "{first}");
    for _ in 0..3 {
        WsClient::connected(hub.addr, &hub.token("carol")).await;
    }
    let (_, refused) = WsClient::connect(hub.addr, Some(&hub.token("carol"))).await;
    assert!(
        refused.contains(
            "rate_limited: too many connections opened from this address; retry in 900 s"
        ),
        "{refused}"
    );
    assert_eq!(
        YClient::connect(hub.addr, "any", Some(&hub.token("carol")))
            .await
            .err(),
        Some(429)
    );
    hub.stop().await.unwrap();
}
