//! The payload of a client event, decoded, with the checks every event shares: a payload that
//! does not decode, or that carries a NUL character anywhere in its JSON, is an error the
//! handler answers as `invalid` (see [`super::ack::malformed`]).

use crate::validate::json_has_nul;
use serde::de::DeserializeOwned;
use socketioxide::ParserError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::TryData;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;
use std::convert::Infallible;
use std::sync::Arc;

/// Why a payload was not accepted.
#[derive(Debug)]
pub enum PayloadError {
    Parse(ParserError),
    Nul,
}

/// A client event's payload (like socketioxide's `TryData`, with the shared checks).
pub struct Payload<T>(pub Result<T, PayloadError>);

impl<T, A> FromMessageParts<A> for Payload<T>
where
    T: DeserializeOwned,
    A: Adapter,
{
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        if v.as_str().is_some_and(|text| json_has_nul(text)) {
            return Ok(Payload(Err(PayloadError::Nul)));
        }
        let Ok(TryData(decoded)) = TryData::<T>::from_message_parts(s, v, ack_id);
        Ok(Payload(decoded.map_err(PayloadError::Parse)))
    }
}
