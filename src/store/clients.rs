//! Clients, visible to their owner only: every read and write is filtered by the owner, so
//! another user's client does not exist for the caller.

use super::{Store, StoreError, StoreResult, WriteTx, new_id, rfc3339};
use hub_protocol::clients::Client;
use hub_protocol::{ClientId, UserId};
use hub_rooms::files::ClientFields;

type ClientTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);

const COLUMNS: &str =
    "id, owner_id, name, email, phone, organization, tags, created_at, updated_at";

fn client(t: ClientTuple) -> Client {
    Client {
        id: ClientId(t.0),
        owner_id: UserId(t.1),
        name: t.2,
        email: t.3,
        phone: t.4,
        organization: t.5,
        tags: serde_json::from_str(&t.6).unwrap_or_default(),
        created_at: rfc3339(t.7),
        updated_at: rfc3339(t.8),
    }
}

impl Store {
    pub async fn add_client(
        &self,
        w: &mut WriteTx,
        owner: &UserId,
        c: &ClientFields,
    ) -> StoreResult<Client> {
        self.ensure_user(w, owner).await?;
        let (id, now) = (new_id(), self.now_ms());
        let sql =
            format!("INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .bind(owner.as_str())
            .bind(&c.name)
            .bind(c.email.as_deref())
            .bind(c.phone.as_deref())
            .bind(c.organization.as_deref())
            .bind(serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into()))
            .bind(now)
            .execute(w.conn().await?)
            .await?;
        Ok(Client {
            id: ClientId(id),
            owner_id: owner.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            organization: c.organization.clone(),
            tags: c.tags.clone(),
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
        })
    }

    /// `owner`'s client `id`.
    pub async fn client(&self, owner: &UserId, id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1 AND owner_id = $2");
        let row: Option<ClientTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(owner.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(client))
    }

    /// `owner`'s clients, by name.
    pub async fn clients(&self, owner: &UserId) -> StoreResult<Vec<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE owner_id = $1 ORDER BY name, id");
        let rows: Vec<ClientTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(client).collect())
    }

    /// Replaces `owner`'s client `id` with `c`; `NotFound` when it is not theirs.
    pub async fn update_client(
        &self,
        w: &mut WriteTx,
        owner: &UserId,
        id: &str,
        c: &ClientFields,
    ) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE clients SET name = $3, email = $4, phone = $5, organization = $6, tags = $7, updated_at = $8
             WHERE id = $1 AND owner_id = $2",
        )
        .bind(id)
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
        id: &str,
    ) -> StoreResult<()> {
        let gone = sqlx::query("DELETE FROM clients WHERE id = $1 AND owner_id = $2")
            .bind(id)
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
