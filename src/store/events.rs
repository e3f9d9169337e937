//! Events in, stored once by (kind, id).

use super::behind::EventRow;
use super::{Store, StoreResult, WriteTx};
use hub_protocol::UserId;
use serde_json::Value;

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub user: &'a UserId,
    pub body: &'a Value,
    /// The account that sent it.
    pub by: &'a UserId,
}

impl Store {
    /// Stores `event` inside `w` unless an event of its kind and id is already stored; true
    /// when it is new. Whether it is stored is read once per transaction (with the batch's
    /// other events, see [`Store::load_events`]); an event is always about its user, whose
    /// head the transaction holds, so nobody else can store it meanwhile.
    pub async fn insert_event(&self, w: &mut WriteTx, event: NewEvent<'_>) -> StoreResult<bool> {
        let key = (event.kind.to_owned(), event.id.to_owned());
        let stored = match w.known.events.get(&key) {
            Some(stored) => *stored,
            None => {
                let found: Option<(i64,)> =
                    sqlx::query_as("SELECT 1 FROM events WHERE kind = $1 AND id = $2")
                        .bind(event.kind)
                        .bind(event.id)
                        .fetch_optional(w.conn().await?)
                        .await?;
                found.is_some()
            }
        };
        let inserted = !stored;
        if inserted {
            // The user's head is held, and with it every event of theirs: the row waits in
            // the buffer.
            w.pending.events.push(EventRow {
                kind: key.0.clone(),
                id: key.1.clone(),
                user_id: event.user.to_string(),
                body: hub_rooms::audit::canonical_json(event.body),
                received_by: event.by.to_string(),
                received_at: self.now_ms(),
            });
        }
        w.learn(|k| &mut k.events, key, true);
        Ok(inserted)
    }

    /// Reads which of `keys` (kind, id) are stored into `w`, in one statement per 500.
    pub async fn load_events(&self, w: &mut WriteTx, keys: &[(&str, &str)]) -> StoreResult<()> {
        let mut keys: Vec<(&str, &str)> = keys
            .iter()
            .copied()
            .filter(|(kind, id)| {
                !w.known
                    .events
                    .contains_key(&((*kind).to_owned(), (*id).to_owned()))
            })
            .collect();
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(500) {
            let rows = self
                .backend
                .json_rows(1, &[("kind", "text"), ("id", "text")]);
            let sql = format!(
                "SELECT r.kind, r.id FROM ({rows}) AS r
                 WHERE EXISTS (SELECT 1 FROM events e WHERE e.kind = r.kind AND e.id = r.id)"
            );
            let keys: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(kind, id)| serde_json::json!({"kind": kind, "id": id}))
                .collect();
            let query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                .bind(serde_json::Value::from(keys).to_string())
                .bind(chunk.len() as i64);
            let found: std::collections::HashSet<(String, String)> = query
                .fetch_all(w.conn().await?)
                .await?
                .into_iter()
                .collect();
            for (kind, id) in chunk {
                let key = ((*kind).to_owned(), (*id).to_owned());
                let stored = found.contains(&key);
                w.learn(|k| &mut k.events, key, stored);
            }
        }
        Ok(())
    }

    /// The id of a KYC event for `user` reaching `status` that carries no id of its own, read
    /// inside `w`: the id of the event that set the current status when it is `status` already
    /// (so the event is a replay), else the next id for `status` (see
    /// [`hub_rooms::events::kyc_id`]).
    pub async fn kyc_event_id(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        status: &str,
    ) -> StoreResult<String> {
        let first = hub_rooms::events::kyc_id(user.as_str(), status, 0);
        let (current,): (Option<String>,) =
            sqlx::query_as("SELECT (SELECT kyc_status FROM user_stats WHERE user_id = $1)")
                .bind(user.as_str())
                .fetch_one(w.conn().await?)
                .await?;
        // Events of this user and status without an id of their own: `first`, `first:1`, ...
        let (reached,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM events WHERE kind = 'kyc' AND user_id = $1
             AND (id = $2 OR substr(id, 1, length($2) + 1) = $2 || ':')",
        )
        .bind(user.as_str())
        .bind(&first)
        .fetch_one(w.conn().await?)
        .await?;
        let reached = reached.max(0) as u64;
        let n = if current.as_deref() == Some(status) {
            reached.saturating_sub(1)
        } else {
            reached
        };
        Ok(hub_rooms::events::kyc_id(user.as_str(), status, n))
    }
}
