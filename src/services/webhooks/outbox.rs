//! The webhook outbox: a domain change worth hearing writes one delivery per endpoint that
//! hears it, in the change's own transaction, so that a committed change is always delivered
//! and a rolled-back one never is. Which endpoints hear what is kept in memory on every node
//! (read at start, after a bus gap, and on every change to an endpoint, from the bus), so a
//! change no endpoint hears costs nothing.

use crate::clock::{SharedClock, rfc3339};
use crate::store::{EndpointRow, NewDelivery, Store, StoreResult, WriteTx};
use hub_protocol::{DeliveryId, RoomId, WebhookId};
use hub_rooms::webhooks::hears;
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

/// An endpoint as the outbox needs it.
#[derive(Debug, Clone)]
struct Hearing {
    id: WebhookId,
    events: Vec<String>,
    rooms: Option<Vec<String>>,
}

/// The outbox handle a domain service writes through.
#[derive(Clone)]
pub struct Outbox {
    hearing: Arc<RwLock<Vec<Hearing>>>,
    /// The delivery worker of this node, woken when a transaction with deliveries commits.
    wake: Arc<Notify>,
    clock: SharedClock,
}

impl Outbox {
    pub fn new(clock: SharedClock) -> Outbox {
        Outbox {
            hearing: Arc::default(),
            wake: Arc::new(Notify::new()),
            clock,
        }
    }

    /// What the worker waits on.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The live endpoints, as stored now.
    pub(super) fn set(&self, rows: &[EndpointRow]) {
        let hearing = rows
            .iter()
            .filter(|r| r.disabled_at.is_none())
            .map(|r| Hearing {
                id: r.id.clone(),
                events: r.events.split(',').map(str::to_owned).collect(),
                rooms: r
                    .rooms
                    .as_deref()
                    .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok()),
            })
            .collect();
        *self.hearing.write().unwrap_or_else(|e| e.into_inner()) = hearing;
    }

    /// Whether any endpoint hears `event` at all (a hot path asks before it builds a payload).
    pub fn heard(&self, event: &str) -> bool {
        self.hearing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|h| hears(&h.events, None, event, None))
    }

    /// The deliveries of `event` (in `room`, for a chat message) with `data`, one per endpoint
    /// that hears it: the body is `{type, timestamp, data}`.
    pub fn deliveries<T: Serialize>(
        &self,
        event: &str,
        room: Option<&RoomId>,
        data: &T,
    ) -> Vec<NewDelivery> {
        let endpoints: Vec<WebhookId> = self
            .hearing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|h| {
                hears(
                    &h.events,
                    h.rooms.as_deref(),
                    event,
                    room.map(RoomId::as_str),
                )
            })
            .map(|h| h.id.clone())
            .collect();
        if endpoints.is_empty() {
            return Vec::new();
        }
        let body = json!({
            "type": event,
            "timestamp": rfc3339(self.clock.now_ms()),
            "data": data,
        })
        .to_string();
        endpoints
            .into_iter()
            .map(|endpoint_id| NewDelivery {
                id: DeliveryId(format!("msg_{}", crate::store::new_id())),
                endpoint_id,
                event_type: event.to_owned(),
                payload: body.clone(),
            })
            .collect()
    }

    /// Writes the deliveries of `event` into `w`, the transaction of the change; the worker
    /// hears of them once it commits.
    pub async fn emit<T: Serialize>(
        &self,
        store: &Store,
        w: &mut WriteTx,
        event: &str,
        room: Option<&RoomId>,
        data: &T,
    ) -> StoreResult<()> {
        let deliveries = self.deliveries(event, room, data);
        self.write(store, w, &deliveries).await
    }

    /// Writes deliveries made by [`Outbox::deliveries`] into `w`.
    pub async fn write(
        &self,
        store: &Store,
        w: &mut WriteTx,
        deliveries: &[NewDelivery],
    ) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        store.add_deliveries(w, deliveries).await?;
        w.wake_after_commit(&self.wake);
        metrics::counter!("hub_webhook_outbox_total").increment(deliveries.len() as u64);
        Ok(())
    }
}
