//! `POST /api/dev/token`: development only (the route exists when `HUB_ENV=development`, the
//! default of `cargo run`; set `HUB_ENV=production` anywhere else). It signs a token for any
//! user and makes them a member of the demo venture (see [`crate::services::dev`]). It answers
//! only clients on this machine (a loopback peer and, behind trusted proxies, a loopback client
//! as they report it) and never mints a `system` token: the machine's own user may try the
//! product as anyone, nobody else may.

use super::ApiJson;
use crate::auth::Identity;
use crate::error::AppError;
use crate::net::PeerAddr;
use crate::services::groups::{check_user_id, clean_name};
use crate::state::Core;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use hub_protocol::AccountRole;
use hub_protocol::events::EventAccepted;
use hub_protocol::rest::{DevToken, DevTokenIssued, SampleTask};
use std::time::Duration;

/// A development token lives this long unless asked otherwise.
pub const DEFAULT_TTL_SECS: u64 = 12 * 3600;
/// And at most this long.
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

/// Whether a development token may be given to a client at `peer`: only one on this machine.
pub fn answers(peer: std::net::IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

pub async fn token(
    State(core): State<Core>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<DevToken>,
) -> Result<Json<DevTokenIssued>, AppError> {
    // The client as the abuse limits read it: behind trusted proxies, the address they saw.
    let client = core.conns.client_ip(&headers, Some(peer.ip()));
    if !answers(peer.ip()) || !answers(client) {
        return Err(AppError::forbidden(
            "the development sign-in answers only clients on the hub's own machine",
        ));
    }
    check_user_id(&body.user_id)?;
    let name = match body.name.as_deref() {
        Some(n) => clean_name("name", n)?,
        None => body.user_id.to_string(),
    };
    let ttl = body.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(AppError::invalid(format!(
            "ttl_secs must be 1 to {MAX_TTL_SECS}"
        )));
    }
    let role = body.role.unwrap_or(AccountRole::User);
    if role == AccountRole::System {
        return Err(AppError::invalid(
            "role: the development sign-in never mints system tokens (use `hub token --role system`)",
        ));
    }
    let token = core
        .auth
        .mint(
            body.user_id.as_str(),
            Some(&name),
            role,
            Duration::from_secs(ttl),
        )
        .map_err(AppError::internal)?;
    let (venture_id, doc_id) = core.services.dev.demo(&body.user_id, &name, role).await?;
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(ttl as i64);
    Ok(Json(DevTokenIssued {
        token,
        user_id: body.user_id,
        name,
        role,
        expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        venture_id,
        doc_id,
    }))
}

/// `POST /api/dev/sample-task {venture_id?}`: a sample task accepted for the caller (see
/// [`crate::services::Services::dev_sample_task`]): BUZ, XP and badges arrive as they would.
pub async fn sample_task(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<SampleTask>,
) -> Result<(StatusCode, Json<EventAccepted>), AppError> {
    let venture = body.venture_id;
    let accepted = core.services.dev.sample_task(&who.user_id, venture).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_peers_are_answered() {
        for (ip, answered) in [
            ("127.0.0.1", true),
            ("127.8.9.10", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("192.0.2.2", false),
            ("10.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("0.0.0.0", false),
            ("fd00::2", false),
        ] {
            assert_eq!(super::answers(ip.parse().unwrap()), answered, "{ip}");
        }
    }
}
