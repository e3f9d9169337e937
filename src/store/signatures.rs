//! Signing keys and signature requests over files.

use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{FileId, KeyId, SignatureId, UserId};

/// A key as stored (its public key as DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: KeyId,
    pub user_id: UserId,
    pub fingerprint: String,
    pub spki_der: Vec<u8>,
    pub removed: bool,
    pub created_at: i64,
}

/// A key as its list reads it.
#[derive(sqlx::FromRow)]
struct KeyColumns {
    id: String,
    user_id: String,
    fingerprint: String,
    spki_der: String,
    removed_at: Option<i64>,
    created_at: i64,
}

impl From<KeyColumns> for KeyRow {
    fn from(k: KeyColumns) -> KeyRow {
        KeyRow {
            id: KeyId(k.id),
            user_id: UserId(k.user_id),
            fingerprint: k.fingerprint,
            spki_der: hex::decode(k.spki_der).unwrap_or_default(),
            removed: k.removed_at.is_some(),
            created_at: k.created_at,
        }
    }
}

const KEY_COLUMNS: &str = "id, user_id, fingerprint, spki_der, removed_at, created_at";

/// A signature request as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignatureRow {
    #[sqlx(try_from = "String")]
    pub id: SignatureId,
    #[sqlx(try_from = "String")]
    pub file_id: FileId,
    #[sqlx(try_from = "String")]
    pub signer_id: UserId,
    #[sqlx(try_from = "String")]
    pub requested_by: UserId,
    pub status: String,
    pub message: String,
    pub key_fingerprint: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<i64>,
    pub created_at: i64,
}

const SIG_COLUMNS: &str = "id, file_id, signer_id, requested_by, status, message, key_fingerprint, signature, signed_at, created_at";

impl Store {
    pub async fn add_key(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        fingerprint: &str,
        spki_der: &[u8],
    ) -> StoreResult<KeyRow> {
        self.ensure_user(w, user).await?;
        let taken: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM signing_keys WHERE user_id = $1 AND fingerprint = $2 AND removed_at IS NULL",
        )
        .bind(user.as_str())
        .bind(fingerprint)
        .fetch_optional(w.conn().await?)
        .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(
                "this key is registered already".into(),
            ));
        }
        // A public key belongs to the first user who registered it, for good: otherwise anyone
        // could claim a key recovered from someone else's signature.
        sqlx::query(
            "INSERT INTO key_holders (fingerprint, user_id) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(user.as_str())
        .execute(w.conn().await?)
        .await?;
        let (holder,): (String,) =
            sqlx::query_as("SELECT user_id FROM key_holders WHERE fingerprint = $1")
                .bind(fingerprint)
                .fetch_one(w.conn().await?)
                .await?;
        if holder != user.as_str() {
            return Err(StoreError::Conflict(
                "this key is registered to another user".into(),
            ));
        }
        let (id, at) = (KeyId(new_id()), self.now_ms());
        sqlx::query(
            "INSERT INTO signing_keys (id, user_id, fingerprint, spki_der, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(fingerprint)
        .bind(super::blobs::hex(spki_der))
        .bind(at)
        .execute(w.conn().await?)
        .await?;
        Ok(KeyRow {
            id,
            user_id: user.clone(),
            fingerprint: fingerprint.to_owned(),
            spki_der: spki_der.to_vec(),
            removed: false,
            created_at: at,
        })
    }

    /// `user`'s keys that are not removed, oldest first.
    pub async fn keys(&self, user: &UserId) -> StoreResult<Vec<KeyRow>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE user_id = $1 AND removed_at IS NULL ORDER BY id"
        );
        let rows: Vec<KeyColumns> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(KeyRow::from).collect())
    }

    pub async fn key(&self, id: &KeyId) -> StoreResult<Option<KeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE id = $1");
        let row: Option<KeyColumns> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(KeyRow::from))
    }

    /// Removes `user`'s key `id` inside `w`; `NotFound` when it is not theirs.
    pub async fn remove_key(&self, w: &mut WriteTx, user: &UserId, id: &KeyId) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE signing_keys SET removed_at = $3 WHERE id = $1 AND user_id = $2 AND removed_at IS NULL",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn add_signature_request(
        &self,
        w: &mut WriteTx,
        s: &SignatureRow,
    ) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO file_signatures ({SIG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(s.id.as_str())
            .bind(s.file_id.as_str())
            .bind(s.signer_id.as_str())
            .bind(s.requested_by.as_str())
            .bind(&s.status)
            .bind(&s.message)
            .bind(s.key_fingerprint.as_deref())
            .bind(s.signature.as_deref())
            .bind(s.signed_at)
            .bind(s.created_at)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// The request `id`, locked inside `w`.
    pub async fn lock_signature(
        &self,
        w: &mut WriteTx,
        id: &SignatureId,
    ) -> StoreResult<Option<SignatureRow>> {
        let sql = format!(
            "SELECT {SIG_COLUMNS} FROM file_signatures WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<SignatureRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row)
    }

    pub async fn signature(&self, id: &SignatureId) -> StoreResult<Option<SignatureRow>> {
        let sql = format!("SELECT {SIG_COLUMNS} FROM file_signatures WHERE id = $1");
        let row: Option<SignatureRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// Marks a request signed inside `w`.
    pub async fn set_signed(
        &self,
        w: &mut WriteTx,
        id: &SignatureId,
        key: &KeyRow,
        signature: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE file_signatures SET status = 'SIGNED', key_id = $2, key_fingerprint = $3, signature = $4, signed_at = $5
             WHERE id = $1 AND status = 'REQUESTED'",
        )
        .bind(id.as_str())
        .bind(key.id.as_str())
        .bind(&key.fingerprint)
        .bind(signature)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }

    /// A file's signature requests, oldest first.
    pub async fn signatures_of(&self, file_id: &FileId) -> StoreResult<Vec<SignatureRow>> {
        let sql =
            format!("SELECT {SIG_COLUMNS} FROM file_signatures WHERE file_id = $1 ORDER BY id");
        let rows: Vec<SignatureRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }
}
