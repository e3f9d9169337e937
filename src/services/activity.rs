//! A venture's activity feed: services record what happened in a venture after the change is
//! committed, and the venture's room hears it live (`activity`). A feed entry that cannot be
//! written is logged and skipped: the change itself stands (its audit entry is the record).

use super::notify::{Except, Notify};
use crate::store::{ActivityRow, NewActivity, Store};
use hub_protocol::realtime::server;
use hub_protocol::{RoomId, UserId, VentureId};
use serde_json::Value;

/// The ventures' activity feeds.
#[derive(Clone)]
pub struct Activity {
    store: Store,
    notify: Notify,
}

/// A feed entry as clients see it.
pub fn activity_view(row: ActivityRow) -> hub_protocol::activity::Activity {
    hub_protocol::activity::Activity {
        id: row.id,
        venture_id: row.venture_id,
        actor_id: row.actor_id.map(UserId::from),
        verb: row.verb,
        object_kind: row.object_kind,
        object_id: row.object_id,
        data: serde_json::from_str(&row.data).unwrap_or(Value::Null),
        created_at: crate::clock::rfc3339(row.created_at),
    }
}

impl Activity {
    pub fn new(store: Store, notify: Notify) -> Activity {
        Activity { store, notify }
    }

    /// Records `verb` by `actor` on (`object_kind`, `object_id`) in `venture`'s feed and tells
    /// the venture's room.
    pub async fn record(
        &self,
        venture: &VentureId,
        actor: Option<&UserId>,
        verb: &str,
        object: (&str, &str),
        data: Value,
    ) {
        let new = NewActivity {
            venture,
            actor,
            verb,
            object_kind: object.0,
            object_id: object.1,
            data,
        };
        match self.store.add_activity(new).await {
            Ok(row) => {
                let activity = activity_view(row);
                let room = RoomId::from(format!("venture:{venture}"));
                self.notify
                    .to_room(&room, server::ActivityEvent, &activity, Except::default())
                    .await;
            }
            Err(e) => tracing::warn!(%venture, verb, error = %e, "cannot record an activity"),
        }
    }
}
