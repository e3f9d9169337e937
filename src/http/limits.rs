//! Abuse limits on REST: requests without a valid token count against their client's IP
//! address, requests with one against their user, each with its own quota
//! (`HUB_REST_RATE_ANON`, `HUB_REST_RATE_USER`). Over it: `429 rate_limited` with `Retry-After`
//! (seconds). Time is the hub's clock. Behind proxies, `HUB_TRUST_FORWARDED` takes the client's
//! address from `X-Forwarded-For`: the right-most entry that is not a trusted proxy (see
//! [`crate::limits::RestLimits::client_ip`]).

use crate::error::AppError;
use crate::net::PeerAddr;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The middleware.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.limits;
    let now = state.core.clock.now();
    // The token REST authentication reads (the header only): a `?token=` that authenticates
    // nothing must not buy a user's allowance either.
    let user = match crate::auth::find_token(None, req.headers(), None) {
        Ok(token) => state
            .core
            .auth
            .verify(&token)
            .await
            .ok()
            .map(|who| who.user_id),
        Err(_) => None,
    };
    let verdict = match user {
        Some(user) => limits.check_user(&user, now),
        None => {
            let peer = req
                .extensions()
                .get::<ConnectInfo<PeerAddr>>()
                .map(|c| c.0.0.ip());
            let ip = limits.client_ip(req.headers(), peer);
            limits.check_address(ip, now)
        }
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            metrics::counter!("hub_http_rate_limited_total").increment(1);
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = AppError::of(
                hub_protocol::ErrorCode::RateLimited,
                format!("too many requests; retry in {secs} s"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}
