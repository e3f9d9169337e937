//! Tokens from an identity provider: signed with RS256, ES256 or EdDSA by a key of the
//! provider's JWKS (`HUB_JWKS_URL`), with its issuer and audience (`HUB_JWT_ISSUER`,
//! `HUB_JWT_AUDIENCE`) and the user id, name and role read from the claims the operator names.
//! The key set is fetched at start, again every `HUB_JWKS_REFRESH`, and at once when a token
//! names a key it does not hold (at most once per `MIN_REFETCH`, so made-up key ids cannot
//! make the hub hammer the provider): a rotated key is taken without a restart.

use super::error::AuthError;
use hub_protocol::AccountRole;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// The algorithms a provider's tokens may use.
pub const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];
/// The shortest time between two fetches of the key set asked by unknown key ids.
const MIN_REFETCH: Duration = Duration::from_secs(5);

/// The identity provider's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    /// Where the key set is (`HUB_JWKS_URL`); none: only the hub's own HS256 tokens.
    pub url: Option<String>,
    /// The `iss` the provider's tokens carry (`HUB_JWT_ISSUER`).
    pub issuer: Option<String>,
    /// An `aud` the provider's tokens must carry (`HUB_JWT_AUDIENCE`).
    pub audience: Option<String>,
    /// The claim holding the user id (`HUB_JWT_CLAIM_USER`).
    pub claim_user: String,
    /// The claim holding the display name (`HUB_JWT_CLAIM_NAME`).
    pub claim_name: String,
    /// The claim holding the account role, a string or an array of strings
    /// (`HUB_JWT_CLAIM_ROLE`): `system` or `admin` (the strongest present wins), anything else
    /// is `user`.
    pub claim_role: String,
    /// How often the key set is fetched again (`HUB_JWKS_REFRESH`).
    pub refresh: Duration,
}

impl JwksConfig {
    pub const DEFAULT_REFRESH: Duration = Duration::from_secs(600);

    pub fn none() -> JwksConfig {
        JwksConfig {
            url: None,
            issuer: None,
            audience: None,
            claim_user: "sub".into(),
            claim_name: "name".into(),
            claim_role: "role".into(),
            refresh: Self::DEFAULT_REFRESH,
        }
    }
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self::none()
    }
}

/// Identity provider flags.
#[derive(Debug, Clone, clap::Args)]
pub struct JwksArgs {
    /// The identity provider's key set (JWKS): tokens signed by its keys with RS256, ES256 or
    /// EdDSA are accepted beside the hub's own HS256 tokens.
    #[arg(long, env = "HUB_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The `iss` the provider's tokens must carry.
    #[arg(long, env = "HUB_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// An `aud` the provider's tokens must carry.
    #[arg(long, env = "HUB_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The claim of the provider's tokens that holds the user id.
    #[arg(long, env = "HUB_JWT_CLAIM_USER", default_value = "sub")]
    pub jwt_claim_user: String,
    /// The claim that holds the display name.
    #[arg(long, env = "HUB_JWT_CLAIM_NAME", default_value = "name")]
    pub jwt_claim_name: String,
    /// The claim that holds the account role (`system`, `admin`; a string or an array).
    #[arg(long, env = "HUB_JWT_CLAIM_ROLE", default_value = "role")]
    pub jwt_claim_role: String,
    /// How often the key set is fetched again (it is also fetched when a token names an
    /// unknown key).
    #[arg(long, env = "HUB_JWKS_REFRESH", default_value_t = JwksConfig::DEFAULT_REFRESH.into())]
    pub jwks_refresh: humantime::Duration,
}

impl JwksArgs {
    pub fn resolve(&self) -> anyhow::Result<JwksConfig> {
        if let Some(url) = &self.jwks_url {
            anyhow::ensure!(
                url.starts_with("https://") || url.starts_with("http://"),
                "HUB_JWKS_URL must be an http(s) URL"
            );
        }
        for (name, claim) in [
            ("HUB_JWT_CLAIM_USER", &self.jwt_claim_user),
            ("HUB_JWT_CLAIM_NAME", &self.jwt_claim_name),
            ("HUB_JWT_CLAIM_ROLE", &self.jwt_claim_role),
        ] {
            anyhow::ensure!(!claim.trim().is_empty(), "{name} must name a claim");
        }
        anyhow::ensure!(
            !self.jwks_refresh.is_zero(),
            "HUB_JWKS_REFRESH must be more than 0"
        );
        Ok(JwksConfig {
            url: self.jwks_url.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            claim_user: self.jwt_claim_user.clone(),
            claim_name: self.jwt_claim_name.clone(),
            claim_role: self.jwt_claim_role.clone(),
            refresh: *self.jwks_refresh,
        })
    }
}

/// What a provider's token says, by the configured claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderClaims {
    pub user: String,
    pub name: Option<String>,
    pub role: AccountRole,
    pub exp: u64,
    pub iat: Option<u64>,
}

/// The key set as last fetched.
struct Keys {
    keys: Vec<(Option<String>, Jwk)>,
    fetched: Option<Instant>,
    /// When a fetch was last tried (successful or not).
    tried: Option<Instant>,
}

/// The provider's keys and how its tokens are read.
pub struct Jwks {
    config: JwksConfig,
    url: String,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    /// `None` when no key set is configured.
    pub fn new(config: JwksConfig) -> Option<Jwks> {
        let url = config.url.clone()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Some(Jwks {
            config,
            url,
            http,
            keys: RwLock::new(Keys {
                keys: Vec::new(),
                fetched: None,
                tried: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Fetches the key set now.
    pub async fn fetch(&self) -> anyhow::Result<usize> {
        let body = self
            .http
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let set: JwkSet = serde_json::from_slice(&body)?;
        let keys: Vec<(Option<String>, Jwk)> = set
            .keys
            .into_iter()
            .map(|k| (k.common.key_id.clone(), k))
            .collect();
        let n = keys.len();
        let mut held = self.keys.write().unwrap_or_else(|e| e.into_inner());
        held.keys = keys;
        held.fetched = Some(Instant::now());
        Ok(n)
    }

    /// The key a token names (by `kid`, or the only one of its family when it names none),
    /// fetching the set again when it is stale or does not hold it.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.held(kid, alg)? {
            return Ok(key);
        }
        let _one = self.fetching.lock().await;
        // Another request may have fetched it meanwhile.
        if let Some(key) = self.held(kid, alg)? {
            return Ok(key);
        }
        let recently = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tried
            .is_some_and(|t| t.elapsed() < MIN_REFETCH);
        if recently {
            return Err(AuthError::Invalid);
        }
        self.keys.write().unwrap_or_else(|e| e.into_inner()).tried = Some(Instant::now());
        if let Err(e) = self.fetch().await {
            tracing::warn!(url = %self.url, error = %e, "cannot fetch the identity provider's keys");
            metrics::counter!("hub_jwks_fetch_failures_total").increment(1);
        }
        self.held(kid, alg)?.ok_or(AuthError::Invalid)
    }

    /// The held key for `kid` and `alg`; `None` when the set is stale or lacks it.
    fn held(&self, kid: Option<&str>, alg: Algorithm) -> Result<Option<DecodingKey>, AuthError> {
        let held = self.keys.read().unwrap_or_else(|e| e.into_inner());
        if held
            .fetched
            .is_none_or(|t| t.elapsed() >= self.config.refresh)
        {
            return Ok(None);
        }
        let fits: Vec<&Jwk> = held
            .keys
            .iter()
            .filter(|(id, jwk)| (kid.is_none() || id.as_deref() == kid) && fits(jwk, alg))
            .map(|(_, jwk)| jwk)
            .collect();
        match fits.as_slice() {
            [one] => DecodingKey::from_jwk(one)
                .map(Some)
                .map_err(|_| AuthError::Invalid),
            _ => Ok(None),
        }
    }

    /// Checks a provider's token: its algorithm, signature, issuer, audience and claims
    /// (expiry is the caller's, on the hub's clock).
    pub async fn verify(
        &self,
        token: &str,
        header: &jsonwebtoken::Header,
    ) -> Result<ProviderClaims, AuthError> {
        if !ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::Invalid);
        }
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        let mut required = vec!["exp"];
        match &self.config.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.config.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|_| AuthError::Invalid)?;
        read_claims(&self.config, &data.claims)
    }
}

/// Whether `jwk` can check a token signed with `alg`.
fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let declared = jwk.common.key_algorithm;
    let family = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    let matches_declared = match declared {
        None => true,
        Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => alg == Algorithm::EdDSA,
        Some(_) => false,
    };
    family && matches_declared
}

/// The user, name and role from the configured claims.
pub fn read_claims(
    config: &JwksConfig,
    claims: &Map<String, Value>,
) -> Result<ProviderClaims, AuthError> {
    let user = claims
        .get(&config.claim_user)
        .and_then(Value::as_str)
        .ok_or(AuthError::BadSubject)?
        .to_owned();
    let name = claims
        .get(&config.claim_name)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let roles: Vec<&str> = match claims.get(&config.claim_role) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let role = if roles.contains(&"system") {
        AccountRole::System
    } else if roles.contains(&"admin") {
        AccountRole::Admin
    } else {
        AccountRole::User
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(AuthError::Invalid)?;
    let iat = claims.get("iat").and_then(Value::as_u64);
    Ok(ProviderClaims {
        user,
        name,
        role,
        exp,
        iat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claims_are_read_where_the_operator_says() {
        let mut config = JwksConfig::none();
        let got = read_claims(
            &config,
            &claims(json!({"sub": "u1", "name": "Ann", "role": ["viewer", "admin"], "exp": 10, "iat": 5})),
        )
        .unwrap();
        assert_eq!(
            got,
            ProviderClaims {
                user: "u1".into(),
                name: Some("Ann".into()),
                role: AccountRole::Admin,
                exp: 10,
                iat: Some(5),
            }
        );
        config.claim_user = "email".into();
        config.claim_role = "groups".into();
        let got = read_claims(
            &config,
            &claims(json!({"sub": "x", "email": "ann@example.com", "groups": "system", "exp": 10})),
        )
        .unwrap();
        assert_eq!(
            (got.user.as_str(), got.role),
            ("ann@example.com", AccountRole::System)
        );
        assert_eq!(
            read_claims(&config, &claims(json!({"sub": "x", "exp": 10}))),
            Err(AuthError::BadSubject)
        );
        let plain = read_claims(
            &JwksConfig::none(),
            &claims(json!({"sub": "u", "role": "owner", "exp": 1})),
        )
        .unwrap();
        assert_eq!(plain.role, AccountRole::User);
    }
}
