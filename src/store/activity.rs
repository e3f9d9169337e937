//! A venture's activity feed.

use super::{Store, StoreResult, new_id};
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

/// A feed entry as stored (its data as JSON text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub venture_id: VentureId,
    pub actor_id: Option<String>,
    pub verb: String,
    pub object_kind: String,
    pub object_id: String,
    pub data: String,
    pub created_at: i64,
}

impl Store {
    pub async fn add_activity(&self, new: NewActivity<'_>) -> StoreResult<ActivityRow> {
        let row = ActivityRow {
            id: new_id(),
            venture_id: new.venture.clone(),
            actor_id: new.actor.map(|a| a.to_string()),
            verb: new.verb.to_owned(),
            object_kind: new.object_kind.to_owned(),
            object_id: new.object_id.to_owned(),
            data: new.data.to_string(),
            created_at: self.now_ms(),
        };
        sqlx::query(
            "INSERT INTO activities (id, venture_id, actor_id, verb, object_kind, object_id, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.id)
        .bind(row.venture_id.as_str())
        .bind(row.actor_id.as_deref())
        .bind(&row.verb)
        .bind(&row.object_kind)
        .bind(&row.object_id)
        .bind(&row.data)
        .bind(row.created_at)
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// Up to `limit` entries of `venture`'s feed older than `before` (an activity id), newest
    /// first, and whether older ones remain.
    pub async fn activities(
        &self,
        venture: &VentureId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<(Vec<ActivityRow>, bool)> {
        let rows: Vec<ActivityRow> = sqlx::query_as(
            "SELECT id, venture_id, actor_id, verb, object_kind, object_id, data, created_at
             FROM activities WHERE venture_id = $1 AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(venture.as_str())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(super::page(rows, limit))
    }
}
