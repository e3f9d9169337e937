//! Users are learned from tokens: the first request or connection of a user creates its row,
//! a token with a new name updates it.

use super::{Store, StoreResult};
use hub_protocol::UserId;

impl Store {
    /// Creates the user, or renames it when the name changed.
    pub async fn upsert_user(&self, id: &UserId, name: &str) -> StoreResult<()> {
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO users (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
             WHERE users.name <> excluded.name",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Makes sure a user row exists (for a member added before their first sign-in); the name
    /// is the id until a token tells the real one.
    pub(super) async fn ensure_user(
        &self,
        tx: &mut sqlx::AnyConnection,
        id: &UserId,
    ) -> StoreResult<()> {
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO users (id, name, created_at, updated_at) VALUES ($1, $1, $2, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(now)
        .execute(tx)
        .await?;
        Ok(())
    }
}
