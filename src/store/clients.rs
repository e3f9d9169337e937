//! Clients, visible to their owner only: every read and write is filtered by the owner, so
//! another user's client does not exist for the caller.

use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{ClientId, UserId};
use hub_rooms::files::ClientFields;

/// A client as stored (its tags as a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRow {
    #[sqlx(try_from = "String")]
    pub id: ClientId,
    #[sqlx(try_from = "String")]
    pub owner_id: UserId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization: Option<String>,
    pub tags: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, owner_id, name, email, phone, organization, tags, created_at, updated_at";

impl Store {
    pub async fn add_client(
        &self,
        w: &mut WriteTx,
        owner: &UserId,
        c: &ClientFields,
    ) -> StoreResult<ClientRow> {
        self.ensure_user(w, owner).await?;
        let (id, now) = (ClientId(new_id()), self.now_ms());
        let tags = serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into());
        let sql =
            format!("INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(owner.as_str())
            .bind(&c.name)
            .bind(c.email.as_deref())
            .bind(c.phone.as_deref())
            .bind(c.organization.as_deref())
            .bind(&tags)
            .bind(now)
            .execute(w.conn().await?)
            .await?;
        Ok(ClientRow {
            id,
            owner_id: owner.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            organization: c.organization.clone(),
            tags,
            created_at: now,
            updated_at: now,
        })
    }

    /// `owner`'s client `id`.
    pub async fn client(&self, owner: &UserId, id: &ClientId) -> StoreResult<Option<ClientRow>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1 AND owner_id = $2");
        let row: Option<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(owner.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// `owner`'s clients, by name.
    pub async fn clients(&self, owner: &UserId) -> StoreResult<Vec<ClientRow>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE owner_id = $1 ORDER BY name, id");
        let rows: Vec<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Replaces `owner`'s client `id` with `c`; `NotFound` when it is not theirs.
    pub async fn update_client(
        &self,
        w: &mut WriteTx,
        owner: &UserId,
        id: &ClientId,
        c: &ClientFields,
    ) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE clients SET name = $3, email = $4, phone = $5, organization = $6, tags = $7, updated_at = $8
             WHERE id = $1 AND owner_id = $2",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .bind(&c.name)
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(c.organization.as_deref())
        .bind(serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into()))
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes `owner`'s client `id`; `NotFound` when it is not theirs.
    pub async fn delete_client(
        &self,
        w: &mut WriteTx,
        owner: &UserId,
        id: &ClientId,
    ) -> StoreResult<()> {
        let gone = sqlx::query("DELETE FROM clients WHERE id = $1 AND owner_id = $2")
            .bind(id.as_str())
            .bind(owner.as_str())
            .execute(w.conn().await?)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
