//! Tokens and the REST setup a scenario needs (ventures as rooms, memberships).

use anyhow::{Context, bail};
use futures_util::StreamExt;
use hub_protocol::rest::{CreateVenture, PutMember, Venture};
use hub_protocol::{Role, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Tokens {
    key: Option<EncodingKey>,
    /// Tokens read from a file, by user.
    given: std::sync::Arc<std::collections::HashMap<String, String>>,
}

impl Tokens {
    /// From the hub's secret (`--jwt-secret`, or the `jwt_secret` file in `--data-dir`).
    /// With `file`, tokens come from its `user token` lines; users it lacks get minted ones
    /// when a secret is known.
    pub fn new(
        secret: Option<String>,
        data_dir: Option<PathBuf>,
        file: Option<PathBuf>,
    ) -> anyhow::Result<Tokens> {
        let mut given = std::collections::HashMap::new();
        if let Some(file) = &file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            {
                let (user, token) =
                    line.trim()
                        .split_once(char::is_whitespace)
                        .with_context(|| {
                            format!("{}:{}: expected `user token`", file.display(), n + 1)
                        })?;
                given.insert(user.to_owned(), token.trim().to_owned());
            }
        }
        let secret = match (secret, data_dir) {
            (Some(s), _) => Some(s),
            (None, Some(dir)) => Some(
                std::fs::read_to_string(dir.join("jwt_secret"))
                    .with_context(|| format!("cannot read {}/jwt_secret", dir.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(Tokens {
            key: secret.map(|s| EncodingKey::from_secret(s.as_bytes())),
            given: std::sync::Arc::new(given),
        })
    }

    /// A token for `user` (any string when the target does not check tokens).
    pub fn mint(&self, user: &str, role: &str) -> String {
        if let Some(token) = self.given.get(user) {
            return token.clone();
        }
        let Some(key) = &self.key else {
            return format!("unsigned-{user}");
        };
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + 24 * 3600;
        let claims = json!({"sub": user, "name": user, "role": role, "exp": exp});
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).unwrap_or_default()
    }
}

/// Creates `rooms` ventures owned by `owner` with `members` each (`user-{room}-{i}`), through the
/// hub's REST API; returns the room names.
pub async fn hub_rooms(
    base: &str,
    tokens: &Tokens,
    rooms: usize,
    members: impl Fn(usize) -> Vec<String>,
) -> anyhow::Result<Vec<String>> {
    let http = reqwest::Client::new();
    let admin = tokens.mint("loadtest-admin", "admin");
    let mut names = Vec::new();
    for r in 0..rooms {
        let resp = http
            .post(format!("{base}/api/v1/ventures"))
            .bearer_auth(&admin)
            .json(&CreateVenture {
                name: format!("loadtest room {r}"),
                description: None,
            })
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "creating a venture failed: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let venture: Venture = resp
            .json()
            .await
            .context("the hub's answer is not a venture")?;
        let id = venture.id;
        // Memberships go 16 at a time: a 1,000-member room is then set up in well under a
        // second instead of one round trip after the other.
        let url = format!("{base}/api/v1/ventures/{id}/members");
        let puts = futures_util::stream::iter(members(r).into_iter().map(|user| {
            let (http, admin, url) = (&http, &admin, &url);
            async move {
                let status = http
                    .post(url)
                    .bearer_auth(admin)
                    .json(&PutMember {
                        user_id: UserId(user.clone()),
                        role: Role::Member,
                    })
                    .send()
                    .await?
                    .status();
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    bail!(
                        "adding member {user} failed: {status}: the hub's REST limit per user; raise HUB_REST_RATE_USER on the hub (loadtest/bench.sh does)"
                    );
                }
                if !status.is_success() {
                    bail!("adding member {user} failed: {status}");
                }
                Ok(())
            }
        }))
        .buffer_unordered(16);
        futures_util::pin_mut!(puts);
        while let Some(done) = puts.next().await {
            done?;
        }
        names.push(format!("venture:{id}"));
    }
    Ok(names)
}
