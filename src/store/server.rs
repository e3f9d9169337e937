//! The server API's rows: API keys (a SHA-256 of each secret, never the secret), token
//! revocations, and the publications kept with a seq per room.

use super::{Store, StoreResult, WriteTx, id_of, new_id};
use hub_protocol::{ApiKeyId, PublicationId, RoomId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// An API key as stored; `scopes` is the scopes' names joined by commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_by: UserId,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for ApiKeyRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ApiKeyRow {
            id: id_of(r, "id")?,
            name: r.try_get("name")?,
            prefix: r.try_get("prefix")?,
            scopes: r.try_get("scopes")?,
            created_by: id_of(r, "created_by")?,
            created_at: r.try_get("created_at")?,
            last_used_at: r.try_get("last_used_at")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    }
}

const KEY_COLUMNS: &str =
    "id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at";

/// A new API key: its secret is already hashed.
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub secret_sha256: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a str,
    pub created_by: &'a UserId,
}

/// A publication kept in a room's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationRow {
    pub id: PublicationId,
    pub room: RoomId,
    pub seq: i64,
    pub event: String,
    /// JSON text.
    pub data: String,
    pub created_at: i64,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for PublicationRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(PublicationRow {
            id: id_of(r, "id")?,
            room: id_of(r, "room")?,
            seq: r.try_get("seq")?,
            event: r.try_get("event")?,
            data: r.try_get("data")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// A user's revocation: tokens issued before `revoked_before` (Unix ms) are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRow {
    pub user_id: UserId,
    pub revoked_before: i64,
    pub reason: String,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for RevocationRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RevocationRow {
            user_id: id_of(r, "user_id")?,
            revoked_before: r.try_get("revoked_before")?,
            reason: r.try_get("reason")?,
        })
    }
}

impl Store {
    pub async fn add_api_key(
        &self,
        w: &mut WriteTx,
        new: &NewApiKey<'_>,
    ) -> StoreResult<ApiKeyRow> {
        let (id, now) = (ApiKeyId(new_id()), self.now_ms());
        sqlx::query(
            "INSERT INTO api_keys (id, name, secret_sha256, prefix, scopes, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(new.name)
        .bind(new.secret_sha256)
        .bind(new.prefix)
        .bind(new.scopes)
        .bind(new.created_by.as_str())
        .bind(now)
        .execute(w.conn().await?)
        .await?;
        Ok(ApiKeyRow {
            id,
            name: new.name.to_owned(),
            prefix: new.prefix.to_owned(),
            scopes: new.scopes.to_owned(),
            created_by: new.created_by.clone(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        })
    }

    /// Every API key, the newest first.
    pub async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn api_key(&self, id: &ApiKeyId) -> StoreResult<Option<ApiKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?)
    }

    /// The live key whose secret hashes to `secret_sha256`.
    pub async fn api_key_by_secret(&self, secret_sha256: &str) -> StoreResult<Option<ApiKeyRow>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_sha256 = $1 AND revoked_at IS NULL"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(secret_sha256)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Records that key `id` was used at `at` (coarse: callers write it at most once a minute).
    pub async fn touch_api_key(&self, id: &ApiKeyId, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Revokes key `id`; `false` when it was already revoked or does not exist.
    pub async fn revoke_api_key(&self, w: &mut WriteTx, id: &ApiKeyId) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.as_str())
                .bind(self.now_ms())
                .execute(w.conn().await?)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Refuses `user`'s tokens issued before `before` (Unix ms); a later revocation moves the
    /// time forward, never back.
    pub async fn revoke_tokens(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        before: i64,
        reason: &str,
    ) -> StoreResult<RevocationRow> {
        self.ensure_user(w, user).await?;
        let row: RevocationRow = sqlx::query_as(
            "INSERT INTO token_revocations (user_id, revoked_before, reason) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE
               SET revoked_before = CASE WHEN excluded.revoked_before > token_revocations.revoked_before
                                         THEN excluded.revoked_before
                                         ELSE token_revocations.revoked_before END,
                   reason = excluded.reason
             RETURNING user_id, revoked_before, reason",
        )
        .bind(user.as_str())
        .bind(before)
        .bind(reason)
        .fetch_one(w.conn().await?)
        .await?;
        Ok(row)
    }

    /// Every revocation (one row per user ever revoked).
    pub async fn revocations(&self) -> StoreResult<Vec<RevocationRow>> {
        Ok(
            sqlx::query_as("SELECT user_id, revoked_before, reason FROM token_revocations")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Keeps a publication of `room`, giving it the room's next seq.
    pub async fn add_publication(
        &self,
        w: &mut WriteTx,
        room: &RoomId,
        event: &str,
        data: &str,
    ) -> StoreResult<PublicationRow> {
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO publication_rooms (room, last_seq) VALUES ($1, 1)
             ON CONFLICT (room) DO UPDATE SET last_seq = publication_rooms.last_seq + 1
             RETURNING last_seq",
        )
        .bind(room.as_str())
        .fetch_one(w.conn().await?)
        .await?;
        let row = PublicationRow {
            id: PublicationId(new_id()),
            room: room.clone(),
            seq,
            event: event.to_owned(),
            data: data.to_owned(),
            created_at: self.now_ms(),
        };
        sqlx::query(
            "INSERT INTO publications (room, seq, id, event, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.room.as_str())
        .bind(row.seq)
        .bind(row.id.as_str())
        .bind(&row.event)
        .bind(&row.data)
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        Ok(row)
    }

    /// The publications of `room` after `after`, oldest first: at most `limit`, and whether
    /// more follow.
    pub async fn publications(
        &self,
        room: &RoomId,
        after: i64,
        limit: u32,
    ) -> StoreResult<(Vec<PublicationRow>, bool)> {
        let mut rows: Vec<PublicationRow> = sqlx::query_as(
            "SELECT room, seq, id, event, data, created_at FROM publications
              WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(room.as_str())
        .bind(after)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }
}
