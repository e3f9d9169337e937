//! Why a token is refused.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing token")]
    Missing,
    #[error("the Authorization header must be `Bearer <token>`")]
    NotBearer,
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
    #[error("token has an empty or malformed subject")]
    BadSubject,
    #[error("token revoked: sign in again")]
    Revoked,
    #[error("an API key is accepted on the server API only")]
    ApiKeyHere,
}
