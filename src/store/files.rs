//! Uploaded files' rows, their shares and comments (the content is in [`super::Blobs`]). A
//! share is live while it is neither revoked nor expired, checked at every access.

use super::{Store, StoreError, StoreResult, WriteTx, new_id, rfc3339};
use hub_protocol::files::{Comment, FileDoc, Share};
use hub_protocol::{ClientId, UserId, VentureId};

/// A file as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: String,
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
    pub fn view(&self) -> FileDoc {
        FileDoc {
            id: self.id.clone(),
            owner_id: self.owner_id.clone(),
            title: self.title.clone(),
            kind: self.kind.clone(),
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            checksum_sha256: self.checksum.clone(),
            venture_id: self.venture_id.clone(),
            client_id: self.client_id.clone(),
            on_hold: self.hold_reason.is_some(),
            corrupted: self.corrupted_at.is_some(),
            created_at: rfc3339(self.created_at),
        }
    }

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
    pub id: String,
    pub file_id: String,
    pub to_user_id: Option<String>,
    pub client_id: Option<ClientId>,
    pub perms: Perms,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

impl ShareRow {
    pub fn view(&self) -> Share {
        Share {
            id: self.id.clone(),
            document_id: self.file_id.clone(),
            to_user_id: self.to_user_id.clone().map(UserId),
            client_id: self.client_id.clone(),
            can_view: self.perms.view,
            can_comment: self.perms.comment,
            can_sign: self.perms.sign,
            expires_at: self.expires_at.map(rfc3339),
            revoked: self.revoked_at.is_some(),
            created_by: UserId(self.created_by.clone()),
            created_at: rfc3339(self.created_at),
            link: None,
        }
    }

    /// Live at `now`: not revoked, not expired.
    pub fn live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

const FILE_COLUMNS: &str = "id, owner_id, title, kind, file_name, content_type, size, checksum_sha256, storage_key, venture_id, client_id, hold_reason, corrupted_at, created_at";
const SHARE_COLUMNS: &str = "id, file_id, to_user_id, client_id, can_view, can_comment, can_sign, expires_at, revoked_at, created_by, created_at";

type FileTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);
type ShareTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    i64,
);

fn file(t: FileTuple) -> FileRow {
    FileRow {
        id: t.0,
        owner_id: UserId(t.1),
        title: t.2,
        kind: t.3,
        file_name: t.4,
        content_type: t.5,
        size: t.6,
        checksum: t.7,
        storage_key: t.8,
        venture_id: t.9.map(VentureId::from),
        client_id: t.10.map(ClientId),
        hold_reason: t.11,
        corrupted_at: t.12,
        created_at: t.13,
    }
}

fn share(t: ShareTuple) -> ShareRow {
    ShareRow {
        id: t.0,
        file_id: t.1,
        to_user_id: t.2,
        client_id: t.3.map(ClientId),
        perms: Perms {
            view: t.4 != 0,
            comment: t.5 != 0,
            sign: t.6 != 0,
        },
        expires_at: t.7,
        revoked_at: t.8,
        created_by: t.9,
        created_at: t.10,
    }
}

impl Store {
    /// Records an uploaded file inside `w`.
    pub async fn add_file(&self, w: &mut WriteTx, f: &FileRow) -> StoreResult<()> {
        self.ensure_user(w, &f.owner_id).await?;
        let sql = format!(
            "INSERT INTO files ({FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&f.id)
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

    pub async fn file(&self, id: &str) -> StoreResult<Option<FileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1");
        let row: Option<FileTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(file))
    }

    /// The file `id`, locked inside `w`.
    pub async fn lock_file(&self, w: &mut WriteTx, id: &str) -> StoreResult<Option<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<FileTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row.map(file))
    }

    /// `owner`'s files, newest first.
    pub async fn files_of(&self, owner: &UserId) -> StoreResult<Vec<FileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE owner_id = $1 ORDER BY id DESC");
        let rows: Vec<FileTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(file).collect())
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
        let rows: Vec<FileTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(file).collect())
    }

    /// Deletes a file's row (its shares, comments and signature requests with it) inside `w`.
    pub async fn delete_file(&self, w: &mut WriteTx, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// Places (`Some(reason)`) or lifts (`None`) a legal hold inside `w`.
    pub async fn set_hold(
        &self,
        w: &mut WriteTx,
        id: &str,
        reason: Option<&str>,
        by: &UserId,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE files SET hold_reason = $2, held_by = $3, held_at = $4 WHERE id = $1")
            .bind(id)
            .bind(reason)
            .bind(reason.map(|_| by.as_str()))
            .bind(reason.map(|_| self.now_ms()))
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// Flags `id` corrupted; true when it was not flagged yet.
    pub async fn flag_corrupted(&self, id: &str) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE files SET corrupted_at = $2 WHERE id = $1 AND corrupted_at IS NULL",
        )
        .bind(id)
        .bind(self.now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    pub async fn mark_scrubbed(&self, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE files SET scrubbed_at = $2 WHERE id = $1")
            .bind(id)
            .bind(self.now_ms())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Up to `limit` files after `after` (by id), for the scrub.
    pub async fn files_after(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<FileTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(file).collect())
    }

    /// Records a share inside `w`.
    pub async fn add_share(&self, w: &mut WriteTx, s: &ShareRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO file_shares ({SHARE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&s.id)
            .bind(&s.file_id)
            .bind(s.to_user_id.as_deref())
            .bind(s.client_id.as_ref().map(ClientId::as_str))
            .bind(i64::from(s.perms.view))
            .bind(i64::from(s.perms.comment))
            .bind(i64::from(s.perms.sign))
            .bind(s.expires_at)
            .bind(s.revoked_at)
            .bind(&s.created_by)
            .bind(s.created_at)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn share(&self, id: &str) -> StoreResult<Option<ShareRow>> {
        let sql = format!("SELECT {SHARE_COLUMNS} FROM file_shares WHERE id = $1");
        let row: Option<ShareTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(share))
    }

    /// A file's shares, newest first.
    pub async fn shares_of(&self, file_id: &str) -> StoreResult<Vec<ShareRow>> {
        let sql =
            format!("SELECT {SHARE_COLUMNS} FROM file_shares WHERE file_id = $1 ORDER BY id DESC");
        let rows: Vec<ShareTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(share).collect())
    }

    /// What `user`'s live shares of `file_id` allow at `now`.
    pub async fn user_perms(&self, file_id: &str, user: &UserId, now: i64) -> StoreResult<Perms> {
        let sql = format!(
            "SELECT {SHARE_COLUMNS} FROM file_shares WHERE file_id = $1 AND to_user_id = $2"
        );
        let rows: Vec<ShareTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(file_id)
            .bind(user.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(share)
            .filter(|s| s.live(now))
            .fold(Perms::default(), |p, s| Perms {
                view: p.view || s.perms.view,
                comment: p.comment || s.perms.comment,
                sign: p.sign || s.perms.sign,
            }))
    }

    /// Revokes share `id` of `file_id` inside `w`; `NotFound` when it is not that file's.
    pub async fn revoke_share(&self, w: &mut WriteTx, file_id: &str, id: &str) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE file_shares SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND file_id = $2",
        )
        .bind(id)
        .bind(file_id)
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
    pub async fn revoke_client_shares(&self, w: &mut WriteTx, client: &str) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE file_shares SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL",
        )
        .bind(client)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected())
    }

    pub async fn add_comment(
        &self,
        w: &mut WriteTx,
        file_id: &str,
        author: &UserId,
        body: &str,
    ) -> StoreResult<Comment> {
        let (id, at) = (new_id(), self.now_ms());
        sqlx::query(
            "INSERT INTO file_comments (id, file_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(file_id)
        .bind(author.as_str())
        .bind(body)
        .bind(at)
        .execute(w.conn().await?)
        .await?;
        Ok(Comment {
            id,
            document_id: file_id.to_owned(),
            author_id: author.clone(),
            body: body.to_owned(),
            created_at: rfc3339(at),
        })
    }

    /// A file's comments, oldest first.
    pub async fn comments(&self, file_id: &str) -> StoreResult<Vec<Comment>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT id, author_id, body, created_at FROM file_comments WHERE file_id = $1 ORDER BY id",
        )
        .bind(file_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, author, body, at)| Comment {
                id,
                document_id: file_id.to_owned(),
                author_id: UserId(author),
                body,
                created_at: rfc3339(at),
            })
            .collect())
    }
}
