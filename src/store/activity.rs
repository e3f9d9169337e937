//! A venture's activity feed.

use super::{Store, StoreResult, new_id, rfc3339};
use hub_protocol::activity::Activity;
use hub_protocol::{UserId, VentureId};
use serde_json::Value;

/// An entry to add.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub venture: &'a VentureId,
    pub actor: Option<&'a UserId>,
    pub verb: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub data: Value,
}

type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
);

fn activity((id, venture, actor, verb, kind, object, data, at): Row) -> Activity {
    Activity {
        id,
        venture_id: VentureId(venture),
        actor_id: actor.map(UserId),
        verb,
        object_kind: kind,
        object_id: object,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        created_at: rfc3339(at),
    }
}

impl Store {
    pub async fn add_activity(&self, new: NewActivity<'_>) -> StoreResult<Activity> {
        let row: Row = (
            new_id(),
            new.venture.to_string(),
            new.actor.map(|a| a.to_string()),
            new.verb.to_owned(),
            new.object_kind.to_owned(),
            new.object_id.to_owned(),
            new.data.to_string(),
            self.now_ms(),
        );
        sqlx::query(
            "INSERT INTO activities (id, venture_id, actor_id, verb, object_kind, object_id, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.0)
        .bind(&row.1)
        .bind(row.2.as_deref())
        .bind(&row.3)
        .bind(&row.4)
        .bind(&row.5)
        .bind(&row.6)
        .bind(row.7)
        .execute(self.pool())
        .await?;
        Ok(activity(row))
    }

    /// Up to `limit` entries of `venture`'s feed older than `before` (an activity id), newest
    /// first, and whether older ones remain.
    pub async fn activities(
        &self,
        venture: &VentureId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<(Vec<Activity>, bool)> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, venture_id, actor_id, verb, object_kind, object_id, data, created_at
             FROM activities WHERE venture_id = $1 AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(venture.as_str())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        let (rows, more) = super::page(rows, limit);
        Ok((rows.into_iter().map(activity).collect(), more))
    }
}
