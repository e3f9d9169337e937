//! The HTTP error edge: [`AppError`] carries a status, a stable code and a human message, and
//! renders the one error body `{"error": {"code", "message"}}`. Internal causes are logged
//! here and never sent.

use crate::auth::{AuthError, AuthenticateError};
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hub_protocol::{ErrorBody, ErrorCode};

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// A well-formed request whose content is not acceptable (422).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid,
            message,
        )
    }

    /// A request that cannot be parsed (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, message)
    }

    /// An unexpected failure: logs `cause`, sends a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "a dependency of the hub is unavailable; retry later",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        metrics::counter!("hub_http_errors_total", "code" => self.code.as_str()).increment(1);
        (
            self.status,
            axum::Json(ErrorBody::new(self.code, self.message)),
        )
            .into_response()
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("not found"),
            StoreError::Conflict(m) => AppError::conflict(m),
            StoreError::Invalid(m) => AppError::invalid(m),
            StoreError::Denied(d @ hub_rooms::Denied::LastOwner) => {
                AppError::conflict(d.to_string())
            }
            StoreError::Denied(d) => AppError::forbidden(d.to_string()),
            StoreError::Db(db) if StoreError::is_constraint_violation(&db) => {
                tracing::debug!(error = %db, "constraint violation");
                AppError::conflict("the request conflicts with existing data")
            }
            StoreError::Db(
                db @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)),
            ) => AppError::unavailable(db),
            StoreError::Db(db) => AppError::internal(db),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        metrics::counter!("hub_auth_failures_total", "transport" => "http").increment(1);
        AppError::unauthorized(e.to_string())
    }
}

impl From<AuthenticateError> for AppError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::Auth(a) => a.into(),
            AuthenticateError::Store(s) => s.into(),
        }
    }
}

impl From<crate::services::docs::DocsError> for AppError {
    fn from(e: crate::services::docs::DocsError) -> Self {
        use crate::services::docs::DocsError;
        use hub_rooms::doc::DocError;
        match e {
            DocsError::Doc(
                DocError::UpdateTooLarge { .. }
                | DocError::DocTooLarge { .. }
                | DocError::AwarenessTooLarge { .. },
            ) => AppError::too_large(e.to_string()),
            DocsError::Doc(d) => AppError::invalid(d.to_string()),
            DocsError::Store(s) => s.into(),
            DocsError::NotFound => AppError::not_found("no such document"),
        }
    }
}
