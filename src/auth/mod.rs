//! Identity: the hub's own HS256 JWTs with `sub`, `name`, `role` and `exp`, and, with
//! `HUB_JWKS_URL`, an identity provider's RS256, ES256 and EdDSA tokens ([`jwks`]), checked on
//! REST (`Authorization: Bearer`), on the Socket.IO handshake (`auth: {token}`, the header, or
//! `?token=`) and on `/yjs`. The first sight of a user records it in the store; later sights
//! with a new name rename it.

mod error;
pub mod jwks;

pub use error::AuthError;

use crate::store::Store;
use hub_protocol::{AccountRole, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest user id accepted.
pub const MAX_USER_ID_LEN: usize = 128;
/// The longest display name kept (longer ones are cut).
pub const MAX_NAME_CHARS: usize = 120;
/// How many users' names are remembered to skip redundant upserts.
const KNOWN_USERS_CAP: usize = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub role: AccountRole,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// Who a request or a socket acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub name: String,
    pub role: AccountRole,
}

/// Users whose tokens were revoked through the server API, with the time (Unix ms) before
/// which their tokens are refused. Every node holds all of them: read from the store at start
/// and after a bus gap, and set from the bus as revocations happen. A revocation is never
/// lifted, so each entry only moves forward.
#[derive(Debug, Default)]
pub struct Revocations {
    before: std::sync::RwLock<HashMap<UserId, i64>>,
}

impl Revocations {
    /// `user`'s tokens issued before `before` are refused from now on.
    pub fn set(&self, user: &UserId, before: i64) {
        let mut all = self.before.write().unwrap_or_else(|e| e.into_inner());
        let at = all.entry(user.clone()).or_insert(before);
        *at = (*at).max(before);
    }

    /// Whether a token of `user` issued at `iat` (Unix seconds) is still good.
    pub fn allows(&self, user: &UserId, iat: Option<u64>) -> bool {
        let all = self.before.read().unwrap_or_else(|e| e.into_inner());
        all.get(user)
            .is_none_or(|before| hub_rooms::server::issued_after(iat, *before))
    }
}

/// Seconds a token stays valid past its `exp`, for clocks that disagree a little.
const EXPIRY_LEEWAY_SECS: u64 = 30;

pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    store: Store,
    known: Mutex<HashMap<UserId, (String, AccountRole)>>,
    revocations: Arc<Revocations>,
    jwks: Option<jwks::Jwks>,
}

impl Auth {
    pub fn new(secret: &[u8], store: Store) -> Arc<Auth> {
        Self::revoking(secret, store, Arc::default(), None)
    }

    /// An `Auth` that refuses the tokens `revocations` names and, with `jwks`, accepts an
    /// identity provider's tokens.
    pub fn revoking(
        secret: &[u8],
        store: Store,
        revocations: Arc<Revocations>,
        jwks: Option<jwks::Jwks>,
    ) -> Arc<Auth> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the hub's clock (the store's), below.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Arc::new(Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            store,
            known: Mutex::new(HashMap::new()),
            revocations,
            jwks,
        })
    }

    /// Signs a token for `user`.
    pub fn mint(
        &self,
        user: &str,
        name: Option<&str>,
        role: AccountRole,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        mint(&self.encoding, user, name, role, ttl)
    }

    /// Checks a token's signature, expiry and subject: the hub's own (HS256), or the identity
    /// provider's (see [`jwks`]).
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if is_api_key(token) {
            return Err(AuthError::ApiKeyHere);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let claims = if header.alg == Algorithm::HS256 {
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
                .map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                })?
                .claims
        } else {
            let jwks = self.jwks.as_ref().ok_or(AuthError::Invalid)?;
            let c = jwks.verify(token, &header).await?;
            Claims {
                sub: c.user,
                name: c.name,
                role: c.role,
                exp: c.exp,
                iat: c.iat,
            }
        };
        let now_secs = u64::try_from(self.store.now_ms() / 1000).unwrap_or(0);
        if claims.exp.saturating_add(EXPIRY_LEEWAY_SECS) < now_secs {
            return Err(AuthError::Expired);
        }
        if !valid_user_id(&claims.sub) {
            return Err(AuthError::BadSubject);
        }
        let user_id = UserId(claims.sub);
        if !self.revocations.allows(&user_id, claims.iat) {
            return Err(AuthError::Revoked);
        }
        let name = claims
            .name
            .map(|n| {
                // Control characters (NUL among them) never reach a display name.
                n.chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>()
                    .trim()
                    .chars()
                    .take(MAX_NAME_CHARS)
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| user_id.to_string());
        Ok(Identity {
            user_id,
            name,
            role: claims.role,
        })
    }

    /// Verifies `token` and makes sure the user is recorded with its current name.
    pub async fn authenticate(&self, token: &str) -> Result<Identity, AuthenticateError> {
        let identity = self.verify(token).await?;
        self.remember(&identity).await?;
        Ok(identity)
    }

    async fn remember(&self, identity: &Identity) -> Result<(), crate::store::StoreError> {
        let seen = self
            .known
            .lock()
            .map(|known| {
                known.get(&identity.user_id) == Some(&(identity.name.clone(), identity.role))
            })
            .unwrap_or(false);
        if seen {
            return Ok(());
        }
        self.store
            .upsert_user(&identity.user_id, &identity.name, identity.role)
            .await?;
        if let Ok(mut known) = self.known.lock() {
            if known.len() >= KNOWN_USERS_CAP {
                known.clear();
            }
            known.insert(
                identity.user_id.clone(),
                (identity.name.clone(), identity.role),
            );
        }
        Ok(())
    }
}

/// What a document link shared with a client carries: the share and the document, until
/// `exp` (seconds). It has no `sub`, so it is never taken for a sign-in token, and a sign-in
/// token has no `share`, so it is never taken for a link.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LinkClaims {
    share: String,
    doc: String,
    exp: u64,
}

impl Auth {
    /// Signs a link to share `share` of document `doc`, valid until `exp_ms` (Unix ms).
    pub fn mint_link(&self, share: &str, doc: &str, exp_ms: i64) -> anyhow::Result<String> {
        let claims = LinkClaims {
            share: share.to_owned(),
            doc: doc.to_owned(),
            exp: u64::try_from(exp_ms / 1000).unwrap_or(0),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The share and document of a link, if its signature holds and it has not expired (by
    /// the hub's clock; revocation is the share's own business).
    pub fn verify_link(&self, token: &str) -> Option<(String, String)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        let data = jsonwebtoken::decode::<LinkClaims>(token, &self.decoding, &validation).ok()?;
        let now_secs = u64::try_from(self.store.now_ms() / 1000).unwrap_or(0);
        (data.claims.exp > now_secs).then_some((data.claims.share, data.claims.doc))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A token refused on REST or `/yjs` (counted as `hub_auth_failures_total{transport="http"}`):
/// `401 unauthorized`. Authentication is the edge's own step, so it converts here rather than
/// through [`crate::error::DomainError`]: the count happens where the answer is made.
impl From<AuthError> for crate::error::AppError {
    fn from(e: AuthError) -> Self {
        metrics::counter!("hub_auth_failures_total", "transport" => "http").increment(1);
        crate::error::AppError::unauthorized(e.to_string())
    }
}

impl From<AuthenticateError> for crate::error::AppError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::Auth(a) => a.into(),
            AuthenticateError::Store(s) => s.into(),
        }
    }
}

/// Signs a token with `secret`; used by `hub token` and by tools that hold the secret.
pub fn mint_with_secret(
    secret: &[u8],
    user: &str,
    name: Option<&str>,
    role: AccountRole,
    ttl: Duration,
) -> anyhow::Result<String> {
    mint(&EncodingKey::from_secret(secret), user, name, role, ttl)
}

fn mint(
    key: &EncodingKey,
    user: &str,
    name: Option<&str>,
    role: AccountRole,
    ttl: Duration,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        valid_user_id(user),
        "user id must be 1 to {MAX_USER_ID_LEN} characters without spaces or ':'"
    );
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: user.to_owned(),
        name: name.map(str::to_owned),
        role,
        exp: now + ttl.as_secs(),
        iat: Some(now),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        key,
    )?)
}

/// Whether `token` is an API key (`hk_…`) rather than a signed token.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(API_KEY_PREFIX)
}

/// What every API key starts with.
pub const API_KEY_PREFIX: &str = "hk_";

/// User ids follow the same rule as ids in room names, so `user:{id}` is always a valid room.
pub fn valid_user_id(id: &str) -> bool {
    hub_rooms::room::valid_id(id)
}

/// Finds a request's token, the one way for REST, Socket.IO and `/yjs`: an explicit token (the
/// Socket.IO handshake's `auth: {token}`), else the `Authorization` header, which must then be
/// `Bearer <token>` (another form is refused as such, not taken for a missing token), else a
/// `token` query parameter (`query`: the raw query string, where the transport accepts one).
pub fn find_token(
    explicit: Option<&str>,
    headers: &axum::http::HeaderMap,
    query: Option<&str>,
) -> Result<String, AuthError> {
    if let Some(t) = explicit.filter(|t| !t.is_empty()) {
        return Ok(t.to_owned());
    }
    if let Some(header) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = header.to_str().map_err(|_| AuthError::NotBearer)?;
        return bearer(value).map(str::to_owned).ok_or(AuthError::NotBearer);
    }
    query
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_the_same_way_everywhere() {
        use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
        let none = HeaderMap::new();
        let mut bearer_h = HeaderMap::new();
        bearer_h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  abc "));
        let mut bare = HeaderMap::new();
        bare.insert(AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(
            find_token(Some("x"), &bearer_h, Some("token=q")),
            Ok("x".into())
        );
        assert_eq!(find_token(Some(""), &bearer_h, None), Ok("abc".into()));
        assert_eq!(
            find_token(None, &bare, Some("token=q")),
            Err(AuthError::NotBearer)
        );
        assert_eq!(
            find_token(None, &none, Some("a=1&token=q%2Bw")),
            Ok("q+w".into())
        );
        assert_eq!(
            find_token(None, &none, Some("token=")),
            Err(AuthError::Missing)
        );
        assert_eq!(find_token(None, &none, None), Err(AuthError::Missing));
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    async fn auth() -> Arc<Auth> {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        Auth::new(SECRET, store)
    }

    #[tokio::test]
    async fn minted_tokens_verify_with_their_claims() {
        let auth = auth().await;
        let token = auth
            .mint(
                "alice",
                Some("Alice"),
                AccountRole::Admin,
                Duration::from_secs(60),
            )
            .unwrap();
        let id = auth.verify(&token).await.unwrap();
        assert_eq!(id.user_id, UserId::from("alice"));
        assert_eq!(id.name, "Alice");
        assert_eq!(id.role, AccountRole::Admin);
        let nameless = auth
            .mint("bob", None, AccountRole::User, Duration::from_secs(60))
            .unwrap();
        assert_eq!(auth.verify(&nameless).await.unwrap().name, "bob");
    }

    /// A token of alice's, signed with the test secret, expiring at `exp` (Unix seconds).
    fn alice_until(exp: u64) -> String {
        let claims = Claims {
            sub: "alice".into(),
            name: None,
            role: AccountRole::User,
            exp,
            iat: None,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn forged_expired_and_garbage_tokens_fail() {
        let auth = auth().await;
        let forged = mint_with_secret(
            b"another-secret-another-secret-xx",
            "alice",
            None,
            AccountRole::User,
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(auth.verify(&forged).await, Err(AuthError::Invalid));
        let expired = alice_until(jsonwebtoken::get_current_timestamp() - 3600);
        assert_eq!(auth.verify(&expired).await, Err(AuthError::Expired));
        assert_eq!(auth.verify("not.a.token").await, Err(AuthError::Invalid));
        let none_alg =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(auth.verify(none_alg).await, Err(AuthError::Invalid));
    }

    #[tokio::test]
    async fn expiry_is_read_on_the_hubs_clock_with_thirty_seconds_of_leeway() {
        let clock = crate::clock::ManualClock::new(1_893_456_000_000);
        let store = Store::connect("sqlite::memory:", 1)
            .await
            .unwrap()
            .with_clock(clock.clone());
        let auth = Auth::new(SECRET, store);
        // exp is 60 s after the clock's start, whatever the machine's time.
        let token = alice_until(1_893_456_060);
        // exp + 30 s is the last valid second; one more and the token is expired.
        for (after_start, valid) in [(0, true), (60, true), (90, true), (91, false)] {
            let clock_now = crate::clock::ManualClock::new(1_893_456_000_000 + after_start * 1000);
            let auth_now = Auth::new(
                SECRET,
                Store::connect("sqlite::memory:", 1)
                    .await
                    .unwrap()
                    .with_clock(clock_now),
            );
            assert_eq!(
                auth_now.verify(&token).await.is_ok(),
                valid,
                "{after_start} s"
            );
        }
        assert!(auth.verify(&token).await.is_ok());
        clock.advance(Duration::from_secs(91));
        assert_eq!(auth.verify(&token).await, Err(AuthError::Expired));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
