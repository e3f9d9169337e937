//! Tokens from an identity provider: keys made by the `jose` package and served as a JWKS by a
//! local Node server; its RS256, ES256 and EdDSA tokens are accepted on REST, Socket.IO and
//! `/yjs`; a rotated key is taken without a restart; a wrong issuer, audience or algorithm is
//! refused; the hub's own HS256 tokens still work.

use crate::common;

use common::node::node_server;
use common::sio::Sio;
use common::yjs::YClient;
use common::{Backend, TestHub};
use hub::auth::jwks::JwksConfig;
use serde_json::{Value, json};

on_both_backends!(provider_tokens_work_everywhere_and_rotate);

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "hub";

struct Provider {
    _child: tokio::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Provider {
    async fn start() -> Provider {
        let (child, base) = node_server("jwks-provider.mjs", &[]).await;
        Provider {
            _child: child,
            base,
            http: common::http_client(),
        }
    }

    async fn call(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A token with header `alg`; `extra` adds or overrides its fields (`claims`, `kid`,
    /// `key_of`).
    async fn token(&self, alg: &str, user: &str, extra: Value) -> String {
        let mut ask = json!({
            "alg": alg,
            "claims": {"sub": user, "name": format!("{user} via IdP"), "iss": ISSUER, "aud": AUDIENCE, "groups": ["staff"]},
        });
        if let Value::Object(more) = extra {
            for (k, v) in more {
                if k == "claims" {
                    for (ck, cv) in v.as_object().unwrap() {
                        ask["claims"][ck] = cv.clone();
                    }
                } else {
                    ask[k] = v;
                }
            }
        }
        self.call("/_token", ask).await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn provider_tokens_work_everywhere_and_rotate(backend: Backend) {
    let idp = Provider::start().await;
    let url = format!("{}/jwks.json", idp.base);
    let hub = TestHub::start_with(backend, move |c| {
        c.jwks = JwksConfig {
            url: Some(url),
            issuer: Some(ISSUER.into()),
            audience: Some(AUDIENCE.into()),
            claim_role: "groups".into(),
            ..JwksConfig::none()
        };
    })
    .await;

    for (alg, user) in [("RS256", "rita"), ("ES256", "eve"), ("EdDSA", "ed")] {
        let token = idp.token(alg, user, json!({})).await;
        // REST.
        let (status, me) = hub.get("/api/v1/me", &token).await;
        assert_eq!(status, 200, "{alg}: {me}");
        assert_eq!(me["user"]["id"], user);
        assert_eq!(me["user"]["name"], format!("{user} via IdP"));
        assert_eq!(me["user"]["role"], "user");
        // Socket.IO, in a room of the user's own venture.
        let (status, venture) = hub
            .post(
                "/api/v1/ventures",
                &token,
                json!({"name": format!("{alg} Co")}),
            )
            .await;
        assert_eq!(status, 201, "{venture}");
        let room = format!("venture:{}", venture["id"].as_str().unwrap());
        let mut sio = Sio::connect(hub.addr, &token).await;
        sio.join(&room).await;
        // `/yjs`, on a document of that room.
        let (status, doc) = hub
            .post(
                "/api/v1/docs",
                &token,
                json!({"room": room, "title": "Plan"}),
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        let mut y = YClient::connect(hub.addr, doc["id"].as_str().unwrap(), Some(&token))
            .await
            .unwrap_or_else(|status| panic!("{alg} on /yjs: {status}"));
        y.recv_prefixed(&[0, 0]).await;
    }

    // The role comes from the claim the operator names.
    let admin = idp
        .token(
            "ES256",
            "ada",
            json!({"claims": {"groups": ["staff", "admin"]}}),
        )
        .await;
    assert_eq!(
        hub.get("/api/v1/me", &admin).await.1["user"]["role"],
        "admin"
    );

    // Rotation: a token of the new key is taken at once (its kid sends the hub to the key
    // set again); the retired key's tokens are refused from then on.
    let before = idp.token("RS256", "rita", json!({})).await;
    let old_kid = idp
        .call("/_token", json!({"alg": "RS256", "claims": {}}))
        .await["kid"]
        .clone();
    idp.call("/_rotate", json!({"alg": "RS256"})).await;
    let after = idp.token("RS256", "rita", json!({})).await;
    assert_eq!(
        hub.get("/api/v1/me", &after).await.0,
        200,
        "the rotated key"
    );
    assert_eq!(
        hub.get("/api/v1/me", &before).await.0,
        401,
        "the retired key"
    );
    let signed_by_retired = idp.token("RS256", "rita", json!({"kid": old_kid})).await;
    assert_eq!(hub.get("/api/v1/me", &signed_by_retired).await.0, 401);

    // Wrong issuer, audience or algorithm: refused on every transport.
    let refused = [
        (
            "issuer",
            idp.token(
                "RS256",
                "mal",
                json!({"claims": {"iss": "https://evil.test"}}),
            )
            .await,
        ),
        (
            "audience",
            idp.token("RS256", "mal", json!({"claims": {"aud": "other"}}))
                .await,
        ),
        (
            "no audience",
            idp.token("ES256", "mal", json!({"claims": {"aud": null}}))
                .await,
        ),
        // `alg: none` with the provider's claims: no signature at all.
        ("none", unsigned("mal")),
        // Signed by the ES256 key, under the RS256 key's id.
        (
            "a key of another family",
            idp.token("ES256", "mal", json!({"kid": after_kid(&idp).await}))
                .await,
        ),
        (
            "expired",
            idp.token("EdDSA", "mal", json!({"claims": {"exp": 1_000_000}}))
                .await,
        ),
    ];
    for (why, token) in &refused {
        let (status, body) = hub.get("/api/v1/me", token).await;
        assert_eq!(status, 401, "{why}: {body}");
        let (_, answer) = common::eio::WsClient::connect(hub.addr, Some(token)).await;
        assert!(answer.starts_with("44"), "{why} on Socket.IO: {answer}");
    }

    // The hub's own HS256 tokens are still its own.
    assert_eq!(hub.get("/api/v1/me", &hub.token("alice")).await.0, 200);
    let forged = hub::auth::mint_with_secret(
        b"not-the-hub-secret-not-the-hub-secret",
        "alice",
        None,
        hub_protocol::AccountRole::Admin,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(hub.get("/api/v1/me", &forged).await.0, 401);
}

/// A token with `alg: none`, the provider's claims and no signature.
fn unsigned(user: &str) -> String {
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": "rs256-1"})),
        b64(json!({"sub": user, "iss": ISSUER, "aud": AUDIENCE, "exp": 4_000_000_000u64}))
    )
}

/// The current RS256 key's id.
async fn after_kid(idp: &Provider) -> Value {
    idp.call("/_token", json!({"alg": "RS256", "claims": {}}))
        .await["kid"]
        .clone()
}
