//! Socket.IO events on the main namespace `/`.
//!
//! Every client event takes an ack, answered with [`AckOk`] (fields flattened beside `"ok": true`)
//! or [`AckErr`] (`{"ok": false, "error": {...}}`).

use crate::error::{ErrorCode, ErrorDetail};
use serde::{Deserialize, Serialize};

/// Diagnostic: answers with the server time, to measure round trips.
pub const SYS_PING: &str = "sys:ping";
/// Diagnostic: answers with the binary payload it was given (tests binary attachments end to end).
pub const SYS_ECHO: &str = "sys:echo";

/// The handshake payload (`io(url, {auth: {token}})`). The token may instead come in an
/// `Authorization: Bearer` header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HandshakeAuth {
    #[serde(default)]
    pub token: Option<String>,
}

/// A successful ack: `{"ok": true, ...fields}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckOk<T> {
    pub ok: bool,
    #[serde(flatten)]
    pub data: T,
}

impl<T> AckOk<T> {
    pub fn new(data: T) -> Self {
        Self { ok: true, data }
    }
}

/// A failed ack: `{"ok": false, "error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckErr {
    pub ok: bool,
    pub error: ErrorDetail,
}

impl AckErr {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

/// Ack of `sys:ping`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pong {
    /// Server time, RFC 3339.
    pub time: String,
    /// The node that answered.
    pub node: String,
}
