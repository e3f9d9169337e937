//! Users are learned from tokens: the first request or connection of a user creates its row,
//! a token with a new name updates it.

use super::{Store, StoreResult};
use hub_protocol::{AccountRole, UserId};

impl Store {
    /// Creates the user, or updates its name and account role when they changed.
    pub async fn upsert_user(&self, id: &UserId, name: &str, role: AccountRole) -> StoreResult<()> {
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO users (id, name, account_role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, account_role = excluded.account_role,
                 updated_at = excluded.updated_at
             WHERE users.name <> excluded.name OR users.account_role <> excluded.account_role",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(role.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The users whose last token made them admins.
    pub async fn admins(&self) -> StoreResult<Vec<UserId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE account_role = 'admin' ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
    }

    /// Makes sure a user row exists (for a member added before their first sign-in); the name
    /// is the id until a token tells the real one.
    pub async fn ensure_user(&self, w: &mut super::WriteTx, id: &UserId) -> StoreResult<()> {
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO users (id, name, created_at, updated_at) VALUES ($1, $1, $2, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(now)
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }
}
