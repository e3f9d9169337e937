//! REST under `/api/v1`, health at `/api/health`, metrics at `/metrics`, the OpenAPI document at
//! `/api/openapi.json`, the demo web app at `/`. One file per resource; every REST route is a
//! line of the table in [`api`], which builds both the router and the document.
//! Every response that is not a success carries the JSON error body, including unknown routes,
//! wrong methods and malformed input.

pub mod api;
mod auditlog;
mod badges;
mod clients;
mod debug;
mod dev;
pub mod docs;
mod equity;
mod events;
mod extract;
mod files;
mod gamification;
mod health;
mod invitations;
pub mod limits;
mod me;
mod notifications;
mod profiles;
mod rooms;
mod server;
mod signatures;
mod teams;
mod ventures;
mod wallets;
mod web;
mod webhooks;

pub use extract::{ApiJson, ApiPath, MaybeIdentity};

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
    let development = state.core.info.environment == "development";
    let files = state.core.services.files.config();
    let wiring = api::Wiring {
        drain: files::Drain {
            limit: upload_limit as u64,
            bytes: files.drain_bytes,
            time: files.drain_time,
        },
        upload_limit,
        development,
        openapi: std::sync::Arc::new(api::openapi(development)),
    };
    let (v1, other) = api::routers(&wiring);
    let v1 = v1.route_layer(middleware::from_fn_with_state(state.clone(), limits::limit));

    Router::new()
        .nest("/api/v1", v1)
        .merge(other)
        .route("/metrics", get(render_metrics))
        .route("/yjs/{doc}", yjs)
        .merge(web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(socket_layer)
        .layer(middleware::map_request(own_request_head))
        .layer(middleware::from_fn(track_http))
        .layer(middleware::from_fn(one_request))
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

/// Each HTTP request is one request scope for the use cases it runs (see
/// `services::request_scope`).
async fn one_request(req: Request, next: middleware::Next) -> axum::response::Response {
    crate::services::request_scope(next.run(req)).await
}

/// Socket.IO keeps each socket's request head (`req_parts`) for the socket's whole life. hyper
/// parses header values and the URI as slices of the connection's read buffer, so that head
/// would pin the whole buffer (8 to 16 KiB) for as long as the socket lives, long after the
/// upgrade; copied, the buffer goes with the handshake. Measured: 30.7 → 23.4 KiB per idle
/// connection at 19,000 (BENCHMARKS.md).
async fn own_request_head(mut req: Request) -> Request {
    if !req.uri().path().starts_with("/socket.io") {
        return req;
    }
    let pinned = std::mem::take(req.headers_mut());
    let mut owned = axum::http::HeaderMap::with_capacity(pinned.len());
    for (name, value) in &pinned {
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            owned.append(name.clone(), copy);
        }
    }
    *req.headers_mut() = owned;
    if let Ok(uri) = axum::http::Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
    req
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
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    if !is_socketio {
        // A refused request is one line at the default level: what was asked and the answer.
        let code = response.status();
        if code.is_client_error() || code.is_server_error() {
            tracing::info!(
                "{method} {path} -> {} ({} ms)",
                code.as_u16(),
                start.elapsed().as_millis()
            );
        }
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
