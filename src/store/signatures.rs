//! Signing keys and signature requests over files.

use super::{Store, StoreError, StoreResult, WriteTx, new_id, rfc3339};
use hub_protocol::UserId;
use hub_protocol::signatures::{Signature, SigningKey};

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: String,
    pub user_id: UserId,
    pub fingerprint: String,
    pub spki_der: Vec<u8>,
    pub removed: bool,
}

/// A signature request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRow {
    pub id: String,
    pub file_id: String,
    pub signer_id: UserId,
    pub requested_by: UserId,
    pub status: String,
    pub message: String,
    pub key_fingerprint: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<i64>,
    pub created_at: i64,
}

impl SignatureRow {
    pub fn view(&self) -> Signature {
        Signature {
            id: self.id.clone(),
            document_id: self.file_id.clone(),
            signer_id: self.signer_id.clone(),
            requested_by: self.requested_by.clone(),
            status: self.status.clone(),
            message: self.message.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            signature: self.signature.clone(),
            signed_at: self.signed_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
        }
    }
}

type SigTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);
const SIG_COLUMNS: &str = "id, file_id, signer_id, requested_by, status, message, key_fingerprint, signature, signed_at, created_at";

fn sig(t: SigTuple) -> SignatureRow {
    SignatureRow {
        id: t.0,
        file_id: t.1,
        signer_id: UserId(t.2),
        requested_by: UserId(t.3),
        status: t.4,
        message: t.5,
        key_fingerprint: t.6,
        signature: t.7,
        signed_at: t.8,
        created_at: t.9,
    }
}

impl Store {
    pub async fn add_key(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        fingerprint: &str,
        spki_der: &[u8],
    ) -> StoreResult<SigningKey> {
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
        let (id, at) = (new_id(), self.now_ms());
        sqlx::query(
            "INSERT INTO signing_keys (id, user_id, fingerprint, spki_der, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(user.as_str())
        .bind(fingerprint)
        .bind(super::blobs::hex(spki_der))
        .bind(at)
        .execute(w.conn().await?)
        .await?;
        Ok(SigningKey {
            id,
            fingerprint: fingerprint.to_owned(),
            created_at: rfc3339(at),
        })
    }

    /// `user`'s keys that are not removed, oldest first.
    pub async fn keys(&self, user: &UserId) -> StoreResult<Vec<SigningKey>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, fingerprint, created_at FROM signing_keys WHERE user_id = $1 AND removed_at IS NULL ORDER BY id",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, fingerprint, at)| SigningKey {
                id,
                fingerprint,
                created_at: rfc3339(at),
            })
            .collect())
    }

    pub async fn key(&self, id: &str) -> StoreResult<Option<KeyRow>> {
        let row: Option<(String, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, user_id, fingerprint, spki_der, removed_at FROM signing_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(id, user, fingerprint, der, removed)| KeyRow {
            id,
            user_id: UserId(user),
            fingerprint,
            spki_der: hex::decode(der).unwrap_or_default(),
            removed: removed.is_some(),
        }))
    }

    /// Removes `user`'s key `id` inside `w`; `NotFound` when it is not theirs.
    pub async fn remove_key(&self, w: &mut WriteTx, user: &UserId, id: &str) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE signing_keys SET removed_at = $3 WHERE id = $1 AND user_id = $2 AND removed_at IS NULL",
        )
        .bind(id)
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
            .bind(&s.id)
            .bind(&s.file_id)
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
        id: &str,
    ) -> StoreResult<Option<SignatureRow>> {
        let sql = format!(
            "SELECT {SIG_COLUMNS} FROM file_signatures WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<SigTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row.map(sig))
    }

    pub async fn signature(&self, id: &str) -> StoreResult<Option<SignatureRow>> {
        let sql = format!("SELECT {SIG_COLUMNS} FROM file_signatures WHERE id = $1");
        let row: Option<SigTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(sig))
    }

    /// Marks a request signed inside `w`.
    pub async fn set_signed(
        &self,
        w: &mut WriteTx,
        id: &str,
        key: &KeyRow,
        signature: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE file_signatures SET status = 'SIGNED', key_id = $2, key_fingerprint = $3, signature = $4, signed_at = $5
             WHERE id = $1 AND status = 'REQUESTED'",
        )
        .bind(id)
        .bind(&key.id)
        .bind(&key.fingerprint)
        .bind(signature)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }

    /// A file's signature requests, oldest first.
    pub async fn signatures_of(&self, file_id: &str) -> StoreResult<Vec<SignatureRow>> {
        let sql =
            format!("SELECT {SIG_COLUMNS} FROM file_signatures WHERE file_id = $1 ORDER BY id");
        let rows: Vec<SigTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(sig).collect())
    }
}
