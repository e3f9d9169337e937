//! Uploaded files' rows, their shares and comments (the content is in [`super::Blobs`]). A
//! share is live while it is neither revoked nor expired, checked at every access.

use super::{Store, StoreError, StoreResult, WriteTx, id_of, new_id, opt_id_of};
use hub_protocol::{ClientId, FileId, ShareId, UserId, VentureId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A file as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: FileId,
    pub owner_id: UserId,
    pub title: String,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub checksum: String,
    pub storage_key: String,
    pub venture_id: Option<VentureId>,
    pub client_id: Option<ClientId>,
    pub hold_reason: Option<String>,
    pub corrupted_at: Option<i64>,
    pub created_at: i64,
}

impl FileRow {
    /// The audit scope of what happens to the file: its venture's, else its owner's.
    pub fn scope(&self) -> String {
        match &self.venture_id {
            Some(v) => format!("venture:{v}"),
            None => format!("user:{}", self.owner_id),
        }
    }
}

/// What a share allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms {
    pub view: bool,
    pub comment: bool,
    pub sign: bool,
}

impl Perms {
    pub fn any(self) -> bool {
        self.view || self.comment || self.sign
    }
}

/// A share as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    pub id: ShareId,
    pub file_id: FileId,
    pub to_user_id: Option<UserId>,
    pub client_id: Option<ClientId>,
    pub perms: Perms,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_by: UserId,
    pub created_at: i64,
}

impl ShareRow {
    /// Live at `now`: not revoked, not expired.
    pub fn live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

const FILE_COLUMNS: &str = "id, owner_id, title, kind, file_name, content_type, size, checksum_sha256, storage_key, venture_id, client_id, hold_reason, corrupted_at, created_at";
const SHARE_COLUMNS: &str = "id, file_id, to_user_id, client_id, can_view, can_comment, can_sign, expires_at, revoked_at, created_by, created_at";

/// Read by column name, ids typed.
impl<'r> sqlx::FromRow<'r, AnyRow> for FileRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(FileRow {
            id: id_of(r, "id")?,
            owner_id: id_of(r, "owner_id")?,
            title: r.try_get("title")?,
            kind: r.try_get("kind")?,
            file_name: r.try_get("file_name")?,
            content_type: r.try_get("content_type")?,
            size: r.try_get("size")?,
            checksum: r.try_get("checksum_sha256")?,
            storage_key: r.try_get("storage_key")?,
            venture_id: opt_id_of(r, "venture_id")?,
            client_id: opt_id_of(r, "client_id")?,
            hold_reason: r.try_get("hold_reason")?,
            corrupted_at: r.try_get("corrupted_at")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// Read by column name, ids typed, the permissions from their 0/1 columns.
impl<'r> sqlx::FromRow<'r, AnyRow> for ShareRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let flag = |name: &str| r.try_get::<i64, _>(name).map(|v| v != 0);
        Ok(ShareRow {
            id: id_of(r, "id")?,
            file_id: id_of(r, "file_id")?,
            to_user_id: opt_id_of(r, "to_user_id")?,
            client_id: opt_id_of(r, "client_id")?,
            perms: Perms {
                view: flag("can_view")?,
                comment: flag("can_comment")?,
                sign: flag("can_sign")?,
            },
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
            created_by: id_of(r, "created_by")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CommentRow {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub file_id: FileId,
    #[sqlx(try_from = "String")]
    pub author_id: UserId,
    pub body: String,
    pub created_at: i64,
}

impl Store {
    /// Records an uploaded file inside `w`.
    pub async fn add_file(&self, w: &mut WriteTx, f: &FileRow) -> StoreResult<()> {
        self.ensure_user(w, &f.owner_id).await?;
        let sql = format!(
            "INSERT INTO files ({FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(f.id.as_str())
            .bind(f.owner_id.as_str())
            .bind(&f.title)
            .bind(&f.kind)
            .bind(&f.file_name)
            .bind(&f.content_type)
            .bind(f.size)
            .bind(&f.checksum)
            .bind(&f.storage_key)
            .bind(f.venture_id.as_ref().map(VentureId::as_str))
            .bind(f.client_id.as_ref().map(ClientId::as_str))
            .bind(f.hold_reason.as_deref())
            .bind(f.corrupted_at)
            .bind(f.created_at)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn file(&self, id: &FileId) -> StoreResult<Option<FileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1");
        let row: Option<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// The file `id`, locked inside `w`.
    pub async fn lock_file(&self, w: &mut WriteTx, id: &FileId) -> StoreResult<Option<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row)
    }

    /// `owner`'s files, newest first.
    pub async fn files_of(&self, owner: &UserId) -> StoreResult<Vec<FileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE owner_id = $1 ORDER BY id DESC");
        let rows: Vec<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Files shared with `user` by a live share at `now`, newest first.
    pub async fn files_shared_with(&self, user: &UserId, now: i64) -> StoreResult<Vec<FileRow>> {
        let columns = FILE_COLUMNS
            .split(", ")
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT DISTINCT {columns} FROM files f JOIN file_shares s ON s.file_id = f.id
             WHERE s.to_user_id = $1 AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2)
             ORDER BY f.id DESC"
        );
        let rows: Vec<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Deletes a file's row (its shares, comments and signature requests with it) inside `w`.
    pub async fn delete_file(&self, w: &mut WriteTx, id: &FileId) -> StoreResult<()> {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id.as_str())
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// Places (`Some(reason)`) or lifts (`None`) a legal hold inside `w`.
    pub async fn set_hold(
        &self,
        w: &mut WriteTx,
        id: &FileId,
        reason: Option<&str>,
        by: &UserId,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE files SET hold_reason = $2, held_by = $3, held_at = $4 WHERE id = $1")
            .bind(id.as_str())
            .bind(reason)
            .bind(reason.map(|_| by.as_str()))
            .bind(reason.map(|_| self.now_ms()))
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// Flags `id` corrupted; true when it was not flagged yet.
    pub async fn flag_corrupted(&self, id: &FileId) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE files SET corrupted_at = $2 WHERE id = $1 AND corrupted_at IS NULL",
        )
        .bind(id.as_str())
        .bind(self.now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    pub async fn mark_scrubbed(&self, id: &FileId) -> StoreResult<()> {
        sqlx::query("UPDATE files SET scrubbed_at = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(self.now_ms())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Up to `limit` files after `after` (by id), for the scrub.
    pub async fn files_after(
        &self,
        after: Option<&FileId>,
        limit: u32,
    ) -> StoreResult<Vec<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after.map(FileId::as_str))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Records a share inside `w`.
    pub async fn add_share(&self, w: &mut WriteTx, s: &ShareRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO file_shares ({SHARE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(s.id.as_str())
            .bind(s.file_id.as_str())
            .bind(s.to_user_id.as_ref().map(UserId::as_str))
            .bind(s.client_id.as_ref().map(ClientId::as_str))
            .bind(i64::from(s.perms.view))
            .bind(i64::from(s.perms.comment))
            .bind(i64::from(s.perms.sign))
            .bind(s.expires_at)
            .bind(s.revoked_at)
            .bind(s.created_by.as_str())
            .bind(s.created_at)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn share(&self, id: &ShareId) -> StoreResult<Option<ShareRow>> {
        let sql = format!("SELECT {SHARE_COLUMNS} FROM file_shares WHERE id = $1");
        let row: Option<ShareRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// A file's shares, newest first.
    pub async fn shares_of(&self, file_id: &FileId) -> StoreResult<Vec<ShareRow>> {
        let sql =
            format!("SELECT {SHARE_COLUMNS} FROM file_shares WHERE file_id = $1 ORDER BY id DESC");
        let rows: Vec<ShareRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// What `user`'s live shares of `file_id` allow at `now`.
    pub async fn user_perms(
        &self,
        file_id: &FileId,
        user: &UserId,
        now: i64,
    ) -> StoreResult<Perms> {
        let sql = format!(
            "SELECT {SHARE_COLUMNS} FROM file_shares WHERE file_id = $1 AND to_user_id = $2"
        );
        let rows: Vec<ShareRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id.as_str())
            .bind(user.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .filter(|s| s.live(now))
            .fold(Perms::default(), |p, s| Perms {
                view: p.view || s.perms.view,
                comment: p.comment || s.perms.comment,
                sign: p.sign || s.perms.sign,
            }))
    }

    /// Revokes share `id` of `file_id` inside `w`; `NotFound` when it is not that file's.
    pub async fn revoke_share(
        &self,
        w: &mut WriteTx,
        file_id: &FileId,
        id: &ShareId,
    ) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE file_shares SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND file_id = $2",
        )
        .bind(id.as_str())
        .bind(file_id.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Revokes every live share to `client` inside `w` (the client is going away).
    pub async fn revoke_client_shares(
        &self,
        w: &mut WriteTx,
        client: &ClientId,
    ) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE file_shares SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL",
        )
        .bind(client.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected())
    }

    pub async fn add_comment(
        &self,
        w: &mut WriteTx,
        file_id: &FileId,
        author: &UserId,
        body: &str,
    ) -> StoreResult<CommentRow> {
        let row = CommentRow {
            id: new_id(),
            file_id: file_id.clone(),
            author_id: author.clone(),
            body: body.to_owned(),
            created_at: self.now_ms(),
        };
        sqlx::query(
            "INSERT INTO file_comments (id, file_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(file_id.as_str())
        .bind(author.as_str())
        .bind(body)
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        Ok(row)
    }

    /// A file's comments, oldest first.
    pub async fn comments(&self, file_id: &FileId) -> StoreResult<Vec<CommentRow>> {
        Ok(sqlx::query_as(
            "SELECT id, file_id, author_id, body, created_at FROM file_comments WHERE file_id = $1 ORDER BY id",
        )
        .bind(file_id.as_str())
        .fetch_all(self.pool())
        .await?)
    }
}
