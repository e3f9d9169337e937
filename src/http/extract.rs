//! Extractors for REST handlers. axum's own rejections answer in plain text; these wrap them so
//! that every failure, even a malformed body or path, answers with the JSON error body.

use crate::auth::{Auth, Identity, find_token, is_api_key};
use crate::error::AppError;
use crate::services::server::Grant;
use crate::state::Core;
use crate::validate::{NUL_REFUSED, has_nul, json_has_nul};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
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
        // Syntax, size and content type first (axum's checks), then NUL, then the shape.
        let axum::Json(raw) = axum::Json::<Box<RawValue>>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        if json_has_nul(raw.get()) {
            return Err(AppError::invalid(NUL_REFUSED));
        }
        serde_json::from_str::<T>(raw.get())
            .map(ApiJson)
            .map_err(|e| {
                AppError::invalid(format!(
                    "Failed to deserialize the JSON body into the target type: {e}"
                ))
            })
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
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await
            && raw.iter().any(|(_, v)| has_nul(v))
        {
            return Err(AppError::invalid(NUL_REFUSED));
        }
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
        // REST takes the header only: a token in a URL ends up in logs.
        let token = find_token(None, &parts.headers, None)?;
        let auth = Arc::<Auth>::from_ref(state);
        Ok(auth.authenticate(&token).await?)
    }
}

/// The caller when the request carries a token, `None` when it carries none. A token that is
/// there but bad is still refused (`401`): a client that meant to sign in hears why it failed.
pub struct MaybeIdentity(pub Option<Identity>);

impl<S> FromRequestParts<S> for MaybeIdentity
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Ok(MaybeIdentity(None));
        }
        Identity::from_request_parts(parts, state)
            .await
            .map(|who| MaybeIdentity(Some(who)))
    }
}

/// Who calls the server API: an account's token (every scope for `admin` and `system`
/// accounts, none for others) or an API key (`hk_…`, its own scopes). The service checks the
/// scope it needs.
pub struct ServerCaller(pub Grant);

/// The server API with an API key or a privileged account's token, or a user with their token
/// (what they may read is theirs to see as a member).
pub enum ServerOrUser {
    Server(Grant),
    User(Identity),
}

/// The caller of a request that takes API keys: the key's grant, or the account.
async fn key_or_account<S>(parts: &Parts, state: &S) -> Result<Result<Grant, Identity>, AppError>
where
    Core: FromRef<S>,
{
    let token = find_token(None, &parts.headers, None)?;
    let core = Core::from_ref(state);
    if is_api_key(&token) {
        let grant = core
            .services
            .server
            .key_grant(&token)
            .await
            .inspect_err(|_| {
                metrics::counter!("hub_auth_failures_total", "transport" => "http").increment(1);
            })?;
        return Ok(Ok(grant));
    }
    Ok(Err(core.auth.authenticate(&token).await?))
}

impl<S> FromRequestParts<S> for ServerCaller
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ServerCaller(match key_or_account(parts, state).await? {
            Ok(grant) => grant,
            Err(who) => Grant::of_account(&who.user_id, who.role),
        }))
    }
}

impl<S> FromRequestParts<S> for ServerOrUser
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(match key_or_account(parts, state).await? {
            Ok(grant) => ServerOrUser::Server(grant),
            Err(who) if who.role.is_privileged() => {
                ServerOrUser::Server(Grant::of_account(&who.user_id, who.role))
            }
            Err(who) => ServerOrUser::User(who),
        })
    }
}
