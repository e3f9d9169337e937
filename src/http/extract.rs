//! Extractors for REST handlers. axum's own rejections answer in plain text; these wrap them so
//! that every failure, even a malformed body or path, answers with the JSON error body.

use crate::auth::{Auth, AuthError, Identity, bearer};
use crate::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A JSON body; rejections become 400/413/415/422 with the error body.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    use axum::http::StatusCode;
    use hub_protocol::ErrorCode;
    let status = rejection.status();
    let text = rejection.body_text();
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::too_large("request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::new(
            status,
            ErrorCode::Invalid,
            "expected a JSON body with Content-Type: application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => AppError::invalid(text),
        _ => AppError::bad_request(text),
    }
}

/// Path parameters; a bad one is a 400 with the error body.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| AppError::bad_request(e.body_text()))
    }
}

/// The authenticated caller, from `Authorization: Bearer <jwt>`.
impl<S> FromRequestParts<S> for Identity
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthError::Missing)?;
        let token = bearer(header).ok_or(AuthError::Missing)?;
        let auth = Arc::<Auth>::from_ref(state);
        Ok(auth.authenticate(token).await?)
    }
}
