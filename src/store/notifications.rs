//! Stored notifications.

use super::behind::NoteRow;
use super::{Store, StoreResult, WriteTx, new_id, rfc3339};
use hub_protocol::UserId;
use hub_protocol::notifications::{Notification, NotificationBody};
use serde_json::{Value, json};

type Row = (String, String, String, i64, Option<i64>);

/// A stored row as the wire type; a row whose data no longer decodes for its kind is skipped.
fn notification((id, kind, data, at, read_at): Row) -> Option<Notification> {
    let data: Value = serde_json::from_str(&data).ok()?;
    let body: NotificationBody =
        serde_json::from_value(json!({"kind": kind, "data": data})).ok()?;
    Some(Notification {
        id,
        body,
        created_at: rfc3339(at),
        read: read_at.is_some(),
    })
}

impl Store {
    /// Stores a notification for `user`.
    pub async fn add_notification(
        &self,
        user: &UserId,
        body: NotificationBody,
    ) -> StoreResult<Notification> {
        let mut w = self.begin_write().await?;
        let note = self.add_notification_in(&mut w, user, body).await?;
        w.commit().await?;
        Ok(note)
    }

    /// Stores a notification for `user` inside `w` (it is committed with the change it tells
    /// of).
    pub async fn add_notification_in(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        body: NotificationBody,
    ) -> StoreResult<Notification> {
        self.fault("add_notification_in")?;
        let (id, at) = (new_id(), self.now_ms());
        let encoded = serde_json::to_value(&body)
            .map_err(|e| super::StoreError::Invalid(format!("notification data: {e}")))?;
        let data = encoded.get("data").cloned().unwrap_or(Value::Null);
        w.pending.notes.push(NoteRow {
            id: id.clone(),
            user_id: user.to_string(),
            kind: body.kind().to_owned(),
            data: data.to_string(),
            created_at: at,
        });
        Ok(Notification {
            id,
            body,
            created_at: rfc3339(at),
            read: false,
        })
    }

    /// Up to `limit` of `user`'s notifications older than `before` (an id), newest first (only
    /// unread ones when `unread_only`), and whether more remain.
    pub async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<(Vec<Notification>, bool)> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, data, created_at, read_at FROM notifications
             WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) AND ($3 IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(user.as_str())
        .bind(i64::from(unread_only))
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        let (rows, more) = super::page(rows, limit);
        Ok((rows.into_iter().filter_map(notification).collect(), more))
    }

    pub async fn unread_notifications(&self, user: &UserId) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// Marks `ids` (or all, when `None`) of `user`'s notifications read; returns what is still
    /// unread. Ids of other users' notifications change nothing.
    pub async fn mark_notifications_read(
        &self,
        user: &UserId,
        ids: Option<&[String]>,
    ) -> StoreResult<i64> {
        let now = self.now_ms();
        match ids {
            None => {
                sqlx::query(
                    "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL",
                )
                .bind(user.as_str())
                .bind(now)
                .execute(self.pool())
                .await?;
            }
            Some(ids) => {
                for id in ids {
                    sqlx::query(
                        "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND id = $2 AND read_at IS NULL",
                    )
                    .bind(user.as_str())
                    .bind(id)
                    .bind(now)
                    .execute(self.pool())
                    .await?;
                }
            }
        }
        self.unread_notifications(user).await
    }
}
