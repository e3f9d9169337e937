//! Errors at the edges. Every domain's error implements [`DomainError`] (a stable code and what
//! a client may be told); that one trait gives the HTTP error ([`AppError`], below) and the
//! Socket.IO ack error (`realtime::ack::EventError`) one conversion each. [`AppError`] carries
//! a status, a stable code and a human message, and renders the one error body
//! `{"error": {"code", "message"}}`. Internal causes are logged where the message is made and
//! never sent.

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

/// What a refusal was about, more precisely than its code, where HTTP answers with a status of
/// its own (every other transport goes by the code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A field that cannot be read as sent: `400`.
    Unreadable,
    /// A file of a type off the list, or whose bytes are not what it says: `415`.
    UnsupportedType,
    /// A byte range wholly outside the content: `416`.
    RangeOutside,
}

/// A refusal or failure of a domain (the store, a service, a rule), as every transport answers
/// it: the code decides the HTTP status, the ack's `code` and the `/yjs` close; the message is
/// what the client reads. Nothing here names a transport.
pub trait DomainError {
    /// The stable code of this error.
    fn code(&self) -> ErrorCode;

    /// What a client may be told. An internal cause is logged here and never returned.
    fn public_message(&self) -> String;

    /// What the refusal was about, when the code alone does not say it (see [`Refusal`]).
    fn refusal(&self) -> Option<Refusal> {
        None
    }
}

impl<E: DomainError> From<E> for AppError {
    fn from(e: E) -> Self {
        let status = match e.refusal() {
            Some(Refusal::Unreadable) => StatusCode::BAD_REQUEST,
            Some(Refusal::UnsupportedType) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some(Refusal::RangeOutside) => StatusCode::RANGE_NOT_SATISFIABLE,
            None => status_of(e.code()),
        };
        AppError::new(status, e.code(), e.public_message())
    }
}

/// A field out of its limits: `400 invalid`, naming the field.
impl DomainError for hub_rooms::fields::FieldError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Invalid
    }

    fn public_message(&self) -> String {
        self.to_string()
    }

    fn refusal(&self) -> Option<Refusal> {
        Some(Refusal::Unreadable)
    }
}
