//! REST under `/api/v1`, health at `/api/health`, metrics at `/metrics`. One file per resource.
//! Every response that is not a success carries the JSON error body, including unknown routes,
//! wrong methods and malformed input.

mod badges;
mod clients;
mod debug;
pub mod docs;
mod equity;
mod events;
mod extract;
mod files;
mod gamification;
mod health;
pub mod limits;
mod me;
mod notifications;
mod profiles;
mod rooms;
mod signatures;
mod teams;
mod ventures;
mod wallets;

pub use extract::{ApiJson, ApiPath, MaybeIdentity};

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use hub_protocol::ErrorCode;
use metrics_exporter_prometheus::PrometheusHandle;
use socketioxide::layer::SocketIoLayer;
use std::time::Instant;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

/// Largest REST request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The HTTP app: REST under `/api/v1`, health, metrics, and the `/yjs` upgrade (`yjs`, the
/// handler of the `yws` transport, given by the wiring so that transports do not import each
/// other).
pub fn router(
    state: AppState,
    upload_limit: usize,
    cors_origins: &[String],
    socket_layer: SocketIoLayer,
    yjs: axum::routing::MethodRouter<AppState>,
) -> Router {
    let api = Router::new()
        .route("/me", get(me::me))
        .route("/rooms", get(rooms::list))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/docs", post(docs::create).get(docs::list))
        .route("/docs/{id}", get(docs::get).delete(docs::delete))
        .route("/docs/{id}/state", get(docs::state))
        .route("/docs/{id}/updates", post(docs::apply_update))
        .route("/ventures", post(ventures::create).get(ventures::list))
        .route("/ventures/{id}", get(ventures::get))
        .route("/ventures/{id}/teams", post(teams::create))
        .route("/ventures/{id}/activity", get(ventures::activity))
        .route("/ventures/{id}/members", post(ventures::put_member))
        .route(
            "/ventures/{id}/members/{user}",
            delete(ventures::remove_member),
        )
        .route("/events/task/accepted", post(events::task_accepted))
        .route("/events/review", post(events::review))
        .route("/events/bug", post(events::bug))
        .route("/events/kyc", post(events::kyc))
        .route("/events/device", post(events::device))
        .route("/events/violation", post(events::violation))
        .route("/ventures/{id}/leaderboard", get(gamification::leaderboard))
        .route("/profiles/me", get(profiles::me).patch(profiles::patch_me))
        .route("/profiles/me/skills", post(profiles::add_skill))
        .route("/profiles/me/endorse", post(profiles::endorse))
        .route("/profiles/me/portfolio", get(profiles::my_portfolio))
        .route("/profiles/{user_id}", get(profiles::get))
        .route("/profiles/{user_id}/portfolio", get(profiles::portfolio))
        .route(
            "/profiles/{user_id}/skills/{skill}/verify",
            post(profiles::verify_skill),
        )
        .route(
            "/skills",
            get(profiles::skills).post(profiles::create_skill),
        )
        .route("/portfolio", post(profiles::add_portfolio_item))
        .route("/portfolio/{id}", delete(profiles::delete_portfolio_item))
        .route("/badges", get(badges::list).post(badges::create))
        .route("/badges/evaluate", post(profiles::evaluate))
        .route("/badges/{code}", patch(badges::patch))
        .route("/badges/{code}/award", post(badges::award))
        .route("/wallet/me", get(wallets::me))
        .route("/wallet/me/ledger", get(wallets::ledger))
        .route("/wallet/me/verify", get(wallets::verify))
        .route("/wallet/me/withheld", get(wallets::withheld))
        .route("/wallets/{user_id}", get(wallets::of_user))
        .route("/wallets/{user_id}/adjust", post(wallets::adjust))
        .route(
            "/conversion-windows",
            get(equity::windows).post(equity::create_window),
        )
        .route("/conversion-windows/active", get(equity::active))
        .route("/equity/convert", post(equity::convert))
        .route("/equity/conversions", get(equity::conversions))
        .route("/equity/conversions/{id}/decide", post(equity::decide))
        .route(
            "/documents",
            post(files::upload)
                .layer(axum::extract::DefaultBodyLimit::max(upload_limit))
                .get(files::list),
        )
        .route("/documents/{id}", get(files::get).delete(files::delete))
        .route("/documents/{id}/content", get(files::content))
        .route("/documents/{id}/share", post(files::share))
        .route("/documents/{id}/shares", get(files::shares))
        .route("/documents/{id}/shares/{share_id}", delete(files::revoke))
        .route(
            "/documents/{id}/comments",
            get(files::comments).post(files::comment),
        )
        .route(
            "/documents/{id}/hold",
            post(files::hold).delete(files::release),
        )
        .route("/documents/{id}/signatures", get(files::signatures))
        .route("/shared/{token}", get(files::shared))
        .route("/shared/{token}/content", get(files::shared_content))
        .route("/clients", get(clients::list).post(clients::create))
        .route(
            "/clients/{id}",
            get(clients::get)
                .patch(clients::patch)
                .delete(clients::delete),
        )
        .route("/keys", get(signatures::keys).post(signatures::add_key))
        .route("/keys/{id}", delete(signatures::remove_key))
        .route("/signatures", post(signatures::request))
        .route("/signatures/{id}/sign", post(signatures::sign))
        .route("/teams/{id}", get(teams::get))
        .route("/teams/{id}/members", post(teams::put_member))
        .route("/teams/{id}/members/{user}", delete(teams::remove_member))
        .route_layer(middleware::from_fn_with_state(state.clone(), limits::limit));

    Router::new()
        .nest("/api/v1", api)
        .route("/api/health", get(health::health))
        .route("/api/debug/worm/integrity", get(debug::worm_integrity))
        .route("/api/debug/worm/reanchor", post(debug::worm_reanchor))
        .route("/api/debug/jobs/health", get(debug::jobs_health))
        .route("/api/debug/gamification/status", get(gamification::status))
        .route("/api/debug/jobs/{name}/run", post(debug::run_job))
        .route("/metrics", get(render_metrics))
        .route("/yjs/{doc}", yjs)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(socket_layer)
        .layer(middleware::from_fn(track_http))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(cors(cors_origins))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(Any)
}

async fn track_http(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let is_socketio = req.uri().path().starts_with("/socket.io");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    if !is_socketio {
        let status = response.status().as_u16().to_string();
        metrics::counter!("hub_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
            .increment(1);
        metrics::histogram!("hub_http_request_duration_seconds", "method" => method, "route" => route)
            .record(start.elapsed().as_secs_f64());
    }
    response
}

async fn render_metrics(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
}

async fn not_found() -> AppError {
    AppError::not_found("no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Invalid,
        "method not allowed on this route",
    )
}
