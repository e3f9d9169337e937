//! Webhooks: endpoints admins register to hear domain events, and the deliveries the hub makes
//! to them, signed as the Standard Webhooks specification says.

use crate::ids::{DeliveryId, RoomId, UserId, WebhookId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    /// The event types it hears (`*`: all of them).
    pub events: Vec<String>,
    /// Chat messages only from these rooms (absent: every room).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rooms: Option<Vec<RoomId>>,
    pub description: String,
    pub created_by: UserId,
    pub created_at: String,
    /// Disabled endpoints hear nothing new; what was made for them stays.
    pub disabled: bool,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewWebhook {
    /// `http(s)://…`; a private, loopback or link-local target is refused unless the operator
    /// allows them (`HUB_WEBHOOK_ALLOW_PRIVATE`).
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    #[ts(optional)]
    pub rooms: Option<Vec<RoomId>>,
    /// `whsec_…` (base64 of 24 to 64 bytes); one is made when absent.
    #[serde(default)]
    #[ts(optional)]
    pub secret: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub description: Option<String>,
}

/// `PATCH /api/v1/webhooks/{id}`: what changes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct PatchWebhook {
    #[serde(default)]
    #[ts(optional)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    #[ts(optional)]
    pub disabled: Option<bool>,
}

/// A new endpoint with its signing secret (shown here and nowhere else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet delivered: waiting for its turn or its next try.
    Pending,
    Delivered,
    /// Given up after too many tries or too long; replayable.
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event to one endpoint: sent with `webhook-id` = `id` on every try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// Its place in the endpoint's order.
    #[ts(type = "number")]
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delivered_at: Option<String>,
    /// The HTTP status of the last try, if it got an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_error: Option<String>,
    /// The body sent: `{type, timestamp, data}`.
    #[ts(type = "unknown")]
    pub payload: serde_json::Value,
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Attempt {
    pub attempt: u32,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<u16>,
    #[ts(type = "number")]
    pub duration_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// `GET /api/v1/webhooks/deliveries/{id}`: a delivery and its tries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DeliveryLog {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}
