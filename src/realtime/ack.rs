//! The ack envelope of client events, and the per-event bookkeeping around a handler: a
//! tracing span, event/ack/error counters, and the error reply.

use super::payload::PayloadError;
use hub_protocol::ErrorCode;
use hub_protocol::realtime::{AckErr, AckOk, ClientEvent};
use socketioxide::extract::AckSender;
use std::future::Future;
use tracing::Instrument;

/// An error a handler answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    pub code: ErrorCode,
    pub message: String,
}

impl EventError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EventError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error in event handler");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

/// Every domain's refusal, as an ack error: its code and public message.
impl<E: crate::error::DomainError> From<E> for EventError {
    fn from(e: E) -> Self {
        EventError::new(e.code(), e.public_message())
    }
}

/// Maps a payload that was not accepted to an `invalid` error saying what `event` takes.
pub fn malformed(event: &str, shape: &str) -> impl FnOnce(PayloadError) -> EventError {
    let message = format!("{event} takes {shape}");
    move |e| match e {
        PayloadError::Parse(e) => EventError::invalid(format!("{message}: {e}")),
        PayloadError::Nul => EventError::invalid(crate::validate::NUL_REFUSED),
    }
}

/// Runs `handler` for the client event `E` under a span and answers the ack with its result,
/// which must be the ack the event contract gives `E` (`hub_protocol::realtime::client`).
pub async fn respond<E, F>(_event: E, user: &str, ack: AckSender, handler: F)
where
    E: ClientEvent,
    F: Future<Output = Result<E::Ack, EventError>>,
{
    respond_as(E::NAME, user, ack, handler).await;
}

/// [`respond`] for an event outside the contract (an unknown one, refused), by its name.
pub async fn respond_as<T, F>(event: &'static str, user: &str, ack: AckSender, handler: F)
where
    T: serde::Serialize,
    F: Future<Output = Result<T, EventError>>,
{
    metrics::counter!("hub_socket_events_total", "event" => event).increment(1);
    let span = tracing::info_span!("socket_event", event, user);
    let result = crate::services::request_scope(handler.instrument(span)).await;
    let sent = match result {
        Ok(data) => {
            metrics::counter!("hub_socket_acks_total", "result" => "ok").increment(1);
            ack.send(&AckOk::new(data))
        }
        Err(err) => {
            metrics::counter!("hub_socket_acks_total", "result" => "error").increment(1);
            metrics::counter!("hub_socket_errors_total", "code" => err.code.as_str()).increment(1);
            ack.send(&AckErr::new(err.code, err.message))
        }
    };
    if let Err(e) = sent {
        super::emit::count_send_error(&e);
    }
}
