//! Tokens and the REST setup a scenario needs (ventures as rooms, memberships).

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Clone)]
pub struct Tokens {
    key: Option<EncodingKey>,
}

impl Tokens {
    /// From the hub's secret (`--jwt-secret`, or the `jwt_secret` file in `--data-dir`).
    pub fn new(secret: Option<String>, data_dir: Option<PathBuf>) -> anyhow::Result<Tokens> {
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
        })
    }

    /// A token for `user` (any string when the target does not check tokens).
    pub fn mint(&self, user: &str, role: &str) -> String {
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
            .json(&json!({"name": format!("loadtest room {r}")}))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "creating a venture failed: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let venture: Value = resp.json().await?;
        let id = venture["id"].as_str().context("venture id")?.to_owned();
        for user in members(r) {
            let status = http
                .post(format!("{base}/api/v1/ventures/{id}/members"))
                .bearer_auth(&admin)
                .json(&json!({"user_id": user, "role": "member"}))
                .send()
                .await?
                .status();
            if !status.is_success() {
                bail!("adding member {user} failed: {status}");
            }
        }
        names.push(format!("venture:{id}"));
    }
    Ok(names)
}
