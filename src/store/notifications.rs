//! Stored notifications.

use super::behind::NoteRow;
use super::{Store, StoreResult, WriteTx, new_id};
use hub_protocol::{NotificationId, UserId};

/// A notification as stored: its kind and its data, JSON text.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    #[sqlx(try_from = "String")]
    pub id: NotificationId,
    pub kind: String,
    pub data: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl Store {
    /// Stores a notification of `kind` with `data` (JSON text) for `user` inside `w` (it is
    /// committed with the change it tells of).
    pub async fn add_notification(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        kind: &str,
        data: String,
    ) -> StoreResult<NotificationRow> {
        self.fault("add_notification")?;
        let row = NotificationRow {
            id: NotificationId(new_id()),
            kind: kind.to_owned(),
            data,
            created_at: self.now_ms(),
            read_at: None,
        };
        w.pending.notes.push(NoteRow {
            id: row.id.to_string(),
            user_id: user.to_string(),
            kind: row.kind.clone(),
            data: row.data.clone(),
            created_at: row.created_at,
        });
        Ok(row)
    }

    /// Up to `limit` of `user`'s notifications older than `before` (an id), newest first (only
    /// unread ones when `unread_only`), and whether more remain.
    pub async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        before: Option<&NotificationId>,
        limit: u32,
    ) -> StoreResult<(Vec<NotificationRow>, bool)> {
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "SELECT id, kind, data, created_at, read_at FROM notifications
             WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) AND ($3 IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(user.as_str())
        .bind(i64::from(unread_only))
        .bind(before.map(NotificationId::as_str))
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(super::page(rows, limit))
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
        ids: Option<&[NotificationId]>,
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
                    .bind(id.as_str())
                    .bind(now)
                    .execute(self.pool())
                    .await?;
                }
            }
        }
        self.unread_notifications(user).await
    }
}
