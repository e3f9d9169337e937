//! The demo web app at `/`: its built assets (`web/dist/`, built from `web/src/` with
//! `npm run --prefix web build`) are compiled into the binary, so `cargo run` serves it with no
//! npm. It talks to the hub through the SDK only.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// `(path, content type, bytes)` of each asset.
const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../../web/dist/index.html"),
    ),
    (
        "/assets/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/app.js"),
    ),
    (
        "/assets/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/dist/app.css"),
    ),
    (
        "/favicon.svg",
        "image/svg+xml",
        include_bytes!("../../web/dist/favicon.svg"),
    ),
];

/// Each asset's strong ETag (its SHA-256), computed once.
fn etags() -> &'static [String; 4] {
    static TAGS: OnceLock<[String; 4]> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS.map(|(_, _, bytes)| format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..12])))
    })
}

fn serve(i: usize, headers: &HeaderMap) -> Response {
    let (_, content_type, bytes) = ASSETS[i];
    let tag = &etags()[i];
    let mut answer = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
    };
    let h = answer.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    // Revalidated at each load: a new binary serves its new assets at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    answer
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { serve(0, &h) }))
        .route(
            "/assets/app.js",
            get(|h: HeaderMap| async move { serve(1, &h) }),
        )
        .route(
            "/assets/app.css",
            get(|h: HeaderMap| async move { serve(2, &h) }),
        )
        .route(
            "/favicon.svg",
            get(|h: HeaderMap| async move { serve(3, &h) }),
        )
}
