//! Events in: the platform's other services tell the hub what happened. Each event is checked
//! (`hub_rooms::events`), stored once by its kind and own id, and audited in the user's chain,
//! all in one transaction; a replay answers `duplicate` and changes nothing. The domain
//! services that react to events (XP, reputation, BUZ issuance) hook in here, inside that
//! transaction.

use super::Services;
use crate::store::{NewEvent, StoreError};
use hub_protocol::UserId;
use hub_protocol::events::EventAccepted;
use hub_rooms::events::Checked;
use serde::Serialize;

impl Services {
    /// Records a checked event for `user`, sent by `by`.
    pub async fn event_in<T: Serialize>(
        &self,
        checked: Checked,
        user: &UserId,
        body: &T,
        by: &UserId,
    ) -> Result<EventAccepted, StoreError> {
        let body = serde_json::to_value(body)
            .map_err(|e| StoreError::Invalid(format!("the event does not encode: {e}")))?;
        let created = self
            .store
            .record_event(NewEvent {
                kind: checked.kind,
                id: &checked.id,
                user,
                body: &body,
                by,
            })
            .await?;
        if created
            && checked.kind == "task.accepted"
            && let Some(venture) = body.get("venture_id").and_then(|v| v.as_str())
            && self
                .store
                .get_venture(&hub_protocol::VentureId::from(venture))
                .await?
                .is_some()
        {
            let task = body
                .get("task_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            self.record_activity(
                &hub_protocol::VentureId::from(venture),
                Some(user),
                "task.accepted",
                ("task", task),
                serde_json::json!({"tier": body.get("tier"), "quality": body.get("quality")}),
            )
            .await;
        }
        metrics::counter!("hub_events_in_total", "kind" => checked.kind, "duplicate" => (!created).to_string())
            .increment(1);
        Ok(EventAccepted {
            id: checked.id,
            kind: checked.kind.to_owned(),
            duplicate: !created,
        })
    }
}
