//! REST abuse limits on the hub's clock: requests without a token count per client IP, with
//! one per user; over the quota, `429 rate_limited` with `Retry-After`, until the clock has
//! refilled the allowance. Hand-computed: 3 per 15 minutes is one every 300 s; 5 per minute is
//! one every 12 s.

mod common;

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
