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

/// The HTTP status of each error code: the one place it is decided.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited | ErrorCode::Busy => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl AppError {
    /// An error with the status of its code.
    pub fn of(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(status_of(code), code, message)
    }

    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::NotFound, message)
    }

    /// A well-formed request whose content is not acceptable (422).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::Invalid, message)
    }

    /// A request that cannot be parsed: `invalid`, with 400 rather than 422. Like 405 and 415,
    /// an HTTP-level refusal keeps its own status; every other status comes from its code.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::TooLarge, message)
    }

    /// An unexpected failure: logs `cause`, sends a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::of(ErrorCode::Internal, "internal error")
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self::of(
            ErrorCode::Unavailable,
            "a dependency of the hub is unavailable; retry later",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        metrics::counter!("hub_http_errors_total", "code" => self.code.as_str()).increment(1);
        let mut response = (
            self.status,
            axum::Json(ErrorBody::new(self.code, self.message)),
        )
            .into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body was never read, so the connection cannot carry another
            // request: say so, or a client reusing it races the server's close.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::of(e.code(), e.public_message())
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

impl From<crate::services::access::AccessError> for AppError {
    fn from(e: crate::services::access::AccessError) -> Self {
        AppError::of(e.code(), e.public_message())
    }
}

impl From<crate::services::docs::DocsError> for AppError {
    fn from(e: crate::services::docs::DocsError) -> Self {
        AppError::of(e.code(), e.public_message())
    }
}

/// A field out of its limits: `400 invalid`, naming the field.
impl From<hub_rooms::fields::FieldError> for AppError {
    fn from(e: hub_rooms::fields::FieldError) -> Self {
        AppError::bad_request(e.to_string())
    }
}

impl From<crate::services::profiles::ProfileError> for AppError {
    fn from(e: crate::services::profiles::ProfileError) -> Self {
        use crate::services::profiles::ProfileError;
        match e {
            ProfileError::Field(f) => f.into(),
            ProfileError::Store(s) => s.into(),
            other => AppError::of(other.code(), other.to_string()),
        }
    }
}

impl From<crate::services::badges::BadgeError> for AppError {
    fn from(e: crate::services::badges::BadgeError) -> Self {
        use crate::services::badges::BadgeError;
        match e {
            BadgeError::Field(f) => f.into(),
            BadgeError::Store(s) => s.into(),
            other => AppError::of(other.code(), other.to_string()),
        }
    }
}

impl From<crate::services::wallets::WalletError> for AppError {
    fn from(e: crate::services::wallets::WalletError) -> Self {
        use crate::services::wallets::WalletError;
        match e {
            WalletError::Field(f) => f.into(),
            WalletError::Store(s) => s.into(),
            other => AppError::of(other.code(), other.to_string()),
        }
    }
}

impl From<crate::services::auditlog::LogError> for AppError {
    fn from(e: crate::services::auditlog::LogError) -> Self {
        use crate::services::auditlog::LogError;
        match e {
            LogError::Store(s) => s.into(),
            LogError::Blob(b) => AppError::unavailable(b),
            other => AppError::of(other.code(), other.to_string()),
        }
    }
}

impl From<crate::services::files::FileError> for AppError {
    fn from(e: crate::services::files::FileError) -> Self {
        use crate::services::files::FileError;
        match e {
            FileError::Field(f) => f.into(),
            FileError::Store(s) => s.into(),
            // An upload of a type off the list, or whose bytes are not what it says.
            FileError::UnsupportedType(m) => {
                AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::Invalid, m)
            }
            FileError::Blob(b) => AppError::unavailable(b),
            other => AppError::of(other.code(), other.to_string()),
        }
    }
}
