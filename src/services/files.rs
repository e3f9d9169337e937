//! Uploaded files (`files` in code, documents on the wire): uploads that stream into the object
//! store with their SHA-256, downloads verified as they go out, shares to users and to clients
//! by signed link, comments, legal holds, and the `files-scrub` job.
//!
//! Access is decided at every request: the owner may do everything; another user holds what
//! their live shares (neither revoked nor expired) allow; to anyone else the file does not
//! exist. Every change is recorded in the audit chain of the file's venture (or of its owner).
//!
//! A download reads the whole stored object and hashes it while it sends the asked bytes,
//! holding back the last piece until the hash is known: on a mismatch the transfer is cut, so
//! a client never receives a complete corrupt file; the file is flagged and admins are told.

use super::Services;
use super::effects::{Effects, FeedTo};
/// A stored document's row, as the services hand it to a transport to serve its content.
pub use crate::store::FileRow;
use crate::store::{BlobError, BlobWriter, NewAudit, Perms, ShareRow, StoreError, WriteTx, new_id};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use hub_protocol::files::{Comment, FileDoc, NewShare};
use hub_protocol::notifications::{
    DocumentCommentedData, DocumentSharedData, FileCorruptedData, NotificationBody,
};
use hub_protocol::{UserId, VentureId};
use hub_rooms::fields::{FieldError, required_text};
use hub_rooms::files::{
    ByteRange, DEFAULT_TYPES, RangeAsk, SNIFF_BYTES, TextCheck, check_comment, check_declared,
    check_meta, check_share_target, check_type, clean_file_name, essence, is_text_type,
    parse_range,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Files settings.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// `s3://bucket/prefix`, or `None` for `dir`.
    pub url: Option<String>,
    /// S3 options beside the `AWS_*` environment (`endpoint`, `allow_http`, …).
    pub s3_options: Vec<(String, String)>,
    pub dir: PathBuf,
    /// The largest upload, bytes.
    pub max_bytes: u64,
    /// Content types accepted.
    pub types: Vec<String>,
    /// How long a client link lives when its share has no expiry of its own.
    pub link_ttl: Duration,
    /// How much of a refused upload's body the hub still reads (and drops) before it answers,
    /// so that a client still sending sees the answer instead of a reset...
    pub drain_bytes: u64,
    /// ...and for how long at most.
    pub drain_time: Duration,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            url: None,
            s3_options: Vec::new(),
            dir: PathBuf::from("data/files"),
            max_bytes: 25 * 1024 * 1024,
            types: DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
            link_ttl: Duration::from_secs(30 * 86_400),
            drain_bytes: 32 * 1024 * 1024,
            drain_time: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// A `Range` wholly outside the document, whose size this is: `416`.
    #[error("range: outside the document's {0} bytes")]
    Unsatisfiable(u64),
}

domain_error!(FileError, access);

impl crate::error::DomainError for FileError {
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            FileError::Field(_) | FileError::UnsupportedType(_) => ErrorCode::Invalid,
            FileError::TooLarge(_) => ErrorCode::TooLarge,
            FileError::NotFound(_) => ErrorCode::NotFound,
            FileError::Forbidden(_) => ErrorCode::Forbidden,
            FileError::Conflict(_) => ErrorCode::Conflict,
            FileError::Store(e) => e.code(),
            FileError::Blob(_) => ErrorCode::Unavailable,
            FileError::Unsatisfiable(_) => ErrorCode::Invalid,
        }
    }

    fn public_message(&self) -> String {
        match self {
            FileError::Store(s) => s.public_message(),
            FileError::Field(f) => f.public_message(),
            FileError::Blob(b) => {
                tracing::warn!(error = %b, "dependency unavailable");
                "a dependency of the hub is unavailable; retry later".into()
            }
            other => other.to_string(),
        }
    }

    /// A field that cannot be read is `400`; an upload of a type off the list, or whose bytes
    /// are not what it says, `415`.
    fn http_status(&self) -> axum::http::StatusCode {
        match self {
            FileError::Field(f) => f.http_status(),
            FileError::UnsupportedType(_) => axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FileError::Unsatisfiable(_) => axum::http::StatusCode::RANGE_NOT_SATISFIABLE,
            other => crate::error::status_of(other.code()),
        }
    }
}

fn no_file() -> FileError {
    FileError::NotFound("no such document".into())
}

/// What the caller may do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub owner: bool,
    pub perms: Perms,
}

impl Access {
    fn full() -> Access {
        Access {
            owner: true,
            perms: Perms {
                view: true,
                comment: true,
                sign: true,
            },
        }
    }
}

/// An upload in progress: bytes go to the object store as they arrive.
pub struct Upload {
    id: String,
    key: String,
    writer: BlobWriter,
    head: Vec<u8>,
    declared: String,
    content_type: Option<String>,
    file_name: String,
    max: u64,
    types: Vec<String>,
    /// For a text type, every byte is checked (UTF-8 without NUL), not just the first ones.
    text: Option<TextCheck>,
}

impl Upload {
    /// Adds the next bytes of the file.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), FileError> {
        if self.writer.size() + chunk.len() as u64 > self.max {
            return Err(FileError::TooLarge(format!(
                "the file is larger than {} bytes",
                self.max
            )));
        }
        if self.content_type.is_none() {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= SNIFF_BYTES {
                self.check()?;
            }
        }
        if let Some(text) = &mut self.text
            && !text.push(&chunk)
        {
            return Err(self.not_text());
        }
        self.writer.write(chunk).await?;
        Ok(())
    }

    fn check(&mut self) -> Result<(), FileError> {
        let t = check_type(&self.declared, &self.types, &self.head)
            .map_err(|e| FileError::UnsupportedType(e.to_string()))?;
        self.content_type = Some(t);
        Ok(())
    }

    /// The end of the file: the last checks that need all of it.
    fn check_end(&mut self) -> Result<(), FileError> {
        if self.content_type.is_none() {
            self.check()?;
        }
        if self.text.as_ref().is_some_and(|t| !t.finish()) {
            return Err(self.not_text());
        }
        Ok(())
    }

    fn not_text(&self) -> FileError {
        FileError::UnsupportedType(format!(
            "file: the file is not {}: text must be UTF-8 without NUL throughout",
            essence(&self.declared)
        ))
    }

    /// Drops what was written.
    pub async fn abort(self) {
        self.writer.abort().await;
    }
}

/// What an upload says besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub venture_id: Option<String>,
    pub client_id: Option<String>,
}

/// The bytes of a download, verified as they go.
pub struct Content {
    pub row: FileRow,
    /// `None` for the whole file.
    pub range: Option<ByteRange>,
    pub stream: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

impl Services {
    /// Starts an upload of a file declared as `declared` and named `file_name`; a type off the
    /// list is refused before anything is written.
    pub async fn begin_upload(&self, declared: &str, file_name: &str) -> Result<Upload, FileError> {
        let cfg = &self.files_config;
        check_declared(declared, &cfg.types)
            .map_err(|e| FileError::UnsupportedType(e.to_string()))?;
        let id = new_id();
        let key = format!("files/{id}");
        let writer = self.blobs.writer(&key).await?;
        Ok(Upload {
            id,
            key,
            writer,
            head: Vec::with_capacity(SNIFF_BYTES),
            declared: declared.to_owned(),
            content_type: None,
            file_name: clean_file_name(file_name),
            max: cfg.max_bytes,
            types: cfg.types.clone(),
            text: is_text_type(&essence(declared)).then(TextCheck::default),
        })
    }

    /// Completes an upload by `owner`: the content is stored, then the document is recorded (and
    /// audited). Anything refused here removes the stored content.
    pub async fn finish_upload(
        &self,
        owner: &UserId,
        mut up: Upload,
        meta: UploadMeta,
    ) -> Result<FileDoc, FileError> {
        if let Err(e) = up.check_end() {
            up.abort().await;
            return Err(e);
        }
        let content_type = up.content_type.clone().unwrap_or_default();
        let (id, key, file_name) = (up.id.clone(), up.key.clone(), up.file_name.clone());
        let (checksum, size) = up.writer.finish().await?;
        match self
            .record_file(
                owner,
                &id,
                &key,
                file_name,
                content_type,
                checksum,
                size,
                meta,
            )
            .await
        {
            Ok(doc) => Ok(doc),
            Err(e) => {
                if let Err(d) = self.blobs.delete(&key).await {
                    tracing::warn!(%key, error = %d, "cannot remove a refused upload");
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_file(
        &self,
        owner: &UserId,
        id: &str,
        key: &str,
        file_name: String,
        content_type: String,
        checksum: String,
        size: u64,
        meta: UploadMeta,
    ) -> Result<FileDoc, FileError> {
        let (title, kind) = check_meta(
            meta.title.as_deref().unwrap_or(""),
            meta.kind.as_deref().unwrap_or(""),
        )?;
        let venture = match meta
            .venture_id
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(v) => {
                let v = VentureId::from(v);
                self.access
                    .venture(
                        super::access::Caller {
                            user: owner,
                            privileged: false,
                        },
                        &v,
                    )
                    .await?;
                Some(v.to_string())
            }
            None => None,
        };
        let client = match meta
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Some(
                self.store
                    .client(owner, c)
                    .await?
                    .ok_or_else(|| FileError::NotFound("no such client".into()))?
                    .id,
            ),
            None => None,
        };
        let row = FileRow {
            id: id.to_owned(),
            owner_id: owner.clone(),
            title,
            kind,
            file_name,
            content_type,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            checksum,
            storage_key: key.to_owned(),
            venture_id: venture,
            client_id: client,
            hold_reason: None,
            corrupted_at: None,
            created_at: self.clock.now_ms(),
        };
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        self.file_audit(
            &mut w,
            &row,
            owner,
            "document.uploaded",
            json!({
                "title": row.title, "type": row.kind, "size": row.size,
                "checksum_sha256": row.checksum, "content_type": row.content_type,
            }),
        )
        .await?;
        self.store.add_file(&mut w, &row).await?;
        if let Some(v) = &row.venture_id {
            fx.feed(
                FeedTo::Venture(VentureId::from(v.as_str())),
                Some(owner),
                "document.uploaded",
                ("file", &row.id),
                json!({"title": row.title, "type": row.kind}),
            );
        }
        self.finish(w, fx).await?;
        metrics::counter!("hub_files_uploaded_total").increment(1);
        Ok(row.view())
    }

    /// Records what happened to `row` in its audit chain.
    async fn file_audit(
        &self,
        w: &mut WriteTx,
        row: &FileRow,
        actor: &UserId,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.store
            .audit(
                w,
                NewAudit {
                    scope: row.scope(),
                    ref_id: Some(&row.id),
                    actor_id: Some(actor.as_str()),
                    action,
                    details,
                },
            )
            .await?;
        Ok(())
    }

    /// The file and what `caller` may do with it; "not found" when nothing.
    pub async fn visible_file(
        &self,
        caller: &UserId,
        id: &str,
    ) -> Result<(FileRow, Access), FileError> {
        let row = self.store.file(id).await?.ok_or_else(no_file)?;
        if &row.owner_id == caller {
            return Ok((row, Access::full()));
        }
        let perms = self
            .store
            .user_perms(id, caller, self.clock.now_ms())
            .await?;
        if !perms.any() {
            return Err(no_file());
        }
        Ok((
            row,
            Access {
                owner: false,
                perms,
            },
        ))
    }

    /// The file for its owner only (others: not found, or forbidden for those it is shared with).
    async fn owned_file(&self, caller: &UserId, id: &str) -> Result<FileRow, FileError> {
        let (row, access) = self.visible_file(caller, id).await?;
        if !access.owner {
            return Err(FileError::Forbidden(
                "only the document's owner may do that".into(),
            ));
        }
        Ok(row)
    }

    /// `mine` or `shared` documents of `caller`.
    pub async fn files(&self, caller: &UserId, shared: bool) -> Result<Vec<FileDoc>, FileError> {
        let rows = if shared {
            self.store
                .files_shared_with(caller, self.clock.now_ms())
                .await?
        } else {
            self.store.files_of(caller).await?
        };
        Ok(rows.iter().map(FileRow::view).collect())
    }

    /// The bytes of `row` that `ask` names: the whole file verified as it goes out, or a range
    /// of a file no check has found corrupted. A flagged file is refused.
    pub async fn content(&self, row: FileRow, range: Option<&str>) -> Result<Content, FileError> {
        let size = u64::try_from(row.size).unwrap_or(0);
        let range = match parse_range(range, size) {
            RangeAsk::Whole => None,
            RangeAsk::One(r) => Some(r),
            RangeAsk::Unsatisfiable => return Err(FileError::Unsatisfiable(size)),
        };
        if row.corrupted_at.is_some() {
            return Err(FileError::Conflict(
                "the stored document does not match its checksum".into(),
            ));
        }
        let missing = |e: BlobError| {
            if e.is_not_found() {
                FileError::Conflict("the document's content is missing from storage".into())
            } else {
                e.into()
            }
        };
        let stream = match range {
            // The content was hashed as it was written and is re-hashed by every scrub (and
            // every whole download), which flag it at the first mismatch: a range of a file
            // not flagged is read alone, without re-reading the whole file.
            Some(r) => self
                .blobs
                .read_range(&row.storage_key, r.start..r.end + 1)
                .await
                .map_err(missing)?
                .map(|r| r.map_err(|e| std::io::Error::other(e.to_string())))
                .boxed(),
            None => {
                let inner = self.blobs.read(&row.storage_key).await.map_err(missing)?;
                let me = self.me().ok_or_else(no_file)?;
                verified(inner, 0, size, row.clone(), me).boxed()
            }
        };
        Ok(Content { row, range, stream })
    }

    /// A stored file no longer matches its checksum: flag it, record it, tell the admins (once).
    pub async fn corrupted(&self, row: &FileRow, actual: &str, found_by: &str) {
        metrics::counter!("hub_files_corrupted_total", "found_by" => found_by.to_owned())
            .increment(1);
        tracing::error!(file = %row.id, expected = %row.checksum, %actual, found_by, "a stored file does not match its checksum");
        match self.store.flag_corrupted(&row.id).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot flag a corrupted file");
                return;
            }
        }
        if let Ok(mut w) = self.store.begin_write().await {
            let done = self
                .store
                .audit(
                    &mut w,
                    NewAudit {
                        scope: row.scope(),
                        ref_id: Some(&row.id),
                        actor_id: None,
                        action: "document.corrupted",
                        details: json!({"expected_sha256": row.checksum, "actual_sha256": actual, "found_by": found_by}),
                    },
                )
                .await;
            let committed = match done {
                Ok(_) => w.commit().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = committed {
                tracing::warn!(error = %e, "cannot record a corrupted file in the audit log");
            }
        }
        let admins = match self.store.admins().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list admins");
                return;
            }
        };
        for admin in admins {
            let data = FileCorruptedData {
                document_id: row.id.clone(),
                title: row.title.clone(),
                owner_id: row.owner_id.clone(),
                expected_sha256: row.checksum.clone(),
                actual_sha256: actual.to_owned(),
                found_by: found_by.to_owned(),
            };
            self.notify_user(&admin, NotificationBody::FileCorrupted(data))
                .await;
        }
    }

    /// Deletes a document (its owner; refused while on hold).
    pub async fn delete_file(&self, caller: &UserId, id: &str) -> Result<(), FileError> {
        self.owned_file(caller, id).await?;
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .lock_file(&mut w, id)
            .await?
            .ok_or_else(no_file)?;
        if row.hold_reason.is_some() {
            return Err(FileError::Conflict(
                "the document is under a legal hold and cannot be deleted".into(),
            ));
        }
        self.file_audit(
            &mut w,
            &row,
            caller,
            "document.deleted",
            json!({"title": row.title, "checksum_sha256": row.checksum}),
        )
        .await?;
        self.store.delete_file(&mut w, id).await?;
        w.commit().await?;
        if let Err(e) = self.blobs.delete(&row.storage_key).await {
            tracing::warn!(file = %id, error = %e, "a deleted document's content could not be removed");
        }
        Ok(())
    }

    /// Shares a document (its owner) with a user or a client.
    pub async fn share(
        &self,
        caller: &UserId,
        id: &str,
        req: &NewShare,
    ) -> Result<ShareRow, FileError> {
        let row = self.owned_file(caller, id).await?;
        check_share_target(
            req.to_user_id.as_ref().map(|u| u.as_str()),
            req.client_id.as_deref(),
        )?;
        let now = self.clock.now_ms();
        let expires_at = match req.expires_at.as_deref() {
            None => None,
            Some(t) => {
                let at = chrono::DateTime::parse_from_rfc3339(t)
                    .map_err(|_| FieldError::new("expires_at", "an RFC 3339 time"))?
                    .timestamp_millis();
                if at <= now {
                    return Err(FieldError::new("expires_at", "must be in the future").into());
                }
                Some(at)
            }
        };
        if let Some(user) = &req.to_user_id {
            if !hub_rooms::room::valid_id(user.as_str()) {
                return Err(FieldError::new("to_user_id", "not a user id").into());
            }
            if user == caller {
                return Err(FieldError::new("to_user_id", "you own the document").into());
            }
        }
        if let Some(c) = &req.client_id
            && self.store.client(caller, c).await?.is_none()
        {
            return Err(FileError::NotFound("no such client".into()));
        }
        let perms = Perms {
            view: req.can_view.unwrap_or(true),
            comment: req.can_comment.unwrap_or(false),
            sign: req.can_sign.unwrap_or(false),
        };
        if !perms.any() {
            return Err(FieldError::new("can_view", "a share allows at least one thing").into());
        }
        let share = ShareRow {
            id: new_id(),
            file_id: row.id.clone(),
            to_user_id: req.to_user_id.as_ref().map(|u| u.to_string()),
            client_id: req.client_id.clone(),
            perms,
            expires_at,
            revoked_at: None,
            created_by: caller.to_string(),
            created_at: now,
        };
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        self.file_audit(
            &mut w,
            &row,
            caller,
            "document.shared",
            json!({
                "share_id": share.id, "to_user_id": share.to_user_id, "client_id": share.client_id,
                "can_view": perms.view, "can_comment": perms.comment, "can_sign": perms.sign,
                "expires_at": share.expires_at,
            }),
        )
        .await?;
        if let Some(user) = &req.to_user_id {
            self.store.lock_users(&mut w, &[user]).await?;
            self.store.ensure_profile(&mut w, user).await?;
        }
        self.store.add_share(&mut w, &share).await?;
        if let Some(user) = &req.to_user_id {
            let data = DocumentSharedData {
                document_id: row.id.clone(),
                title: row.title.clone(),
                share_id: share.id.clone(),
                by: caller.clone(),
                can_view: perms.view,
                can_comment: perms.comment,
                can_sign: perms.sign,
            };
            self.note(
                &mut w,
                &mut fx,
                user,
                NotificationBody::DocumentShared(data),
            )
            .await?;
        }
        self.finish(w, fx).await?;
        Ok(share)
    }

    /// A document's shares (its owner).
    pub async fn shares(&self, caller: &UserId, id: &str) -> Result<Vec<ShareRow>, FileError> {
        self.owned_file(caller, id).await?;
        Ok(self.store.shares_of(id).await?)
    }

    /// Revokes a share (its owner; allowed under a hold too).
    pub async fn revoke(&self, caller: &UserId, id: &str, share: &str) -> Result<(), FileError> {
        let row = self.owned_file(caller, id).await?;
        let mut w = self.store.begin_write().await?;
        self.file_audit(
            &mut w,
            &row,
            caller,
            "document.share_revoked",
            json!({"share_id": share}),
        )
        .await?;
        self.store
            .revoke_share(&mut w, id, share)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => FileError::NotFound("no such share".into()),
                other => other.into(),
            })?;
        w.commit().await?;
        Ok(())
    }

    /// The document and share behind a client link, if the share is a live client share of it.
    pub async fn by_link(
        &self,
        share_id: &str,
        doc_id: &str,
    ) -> Result<(FileRow, ShareRow), FileError> {
        let gone = || FileError::NotFound("the link has expired or was revoked".into());
        let share = self.store.share(share_id).await?.ok_or_else(gone)?;
        if share.file_id != doc_id || share.client_id.is_none() || !share.live(self.clock.now_ms())
        {
            return Err(gone());
        }
        let row = self.store.file(doc_id).await?.ok_or_else(gone)?;
        Ok((row, share))
    }

    /// Comments on a document (those who may comment).
    pub async fn comment(
        &self,
        caller: &UserId,
        id: &str,
        body: &str,
    ) -> Result<Comment, FileError> {
        let body = check_comment(body)?;
        let (row, access) = self.visible_file(caller, id).await?;
        if !access.perms.comment {
            return Err(FileError::Forbidden(
                "your share does not allow comments".into(),
            ));
        }
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        let comment = self.store.add_comment(&mut w, id, caller, &body).await?;
        self.file_audit(
            &mut w,
            &row,
            caller,
            "document.commented",
            json!({"comment_id": comment.id}),
        )
        .await?;
        if &row.owner_id != caller {
            let data = DocumentCommentedData {
                document_id: row.id.clone(),
                title: row.title.clone(),
                comment_id: comment.id.clone(),
                author_id: caller.clone(),
                excerpt: body.chars().take(140).collect(),
            };
            self.note(
                &mut w,
                &mut fx,
                &row.owner_id,
                NotificationBody::DocumentCommented(data),
            )
            .await?;
        }
        self.finish(w, fx).await?;
        Ok(comment)
    }

    /// A document's comments (those who may view or comment).
    pub async fn comments(&self, caller: &UserId, id: &str) -> Result<Vec<Comment>, FileError> {
        let (_, access) = self.visible_file(caller, id).await?;
        if !(access.perms.view || access.perms.comment) {
            return Err(FileError::Forbidden(
                "your share does not show comments".into(),
            ));
        }
        Ok(self.store.comments(id).await?)
    }

    /// Places (`Some`) or lifts (`None`) a legal hold (admins).
    pub async fn hold(
        &self,
        admin: &UserId,
        id: &str,
        reason: Option<&str>,
    ) -> Result<FileDoc, FileError> {
        let reason = match reason {
            Some(r) => Some(required_text("reason", r, 280)?),
            None => None,
        };
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .lock_file(&mut w, id)
            .await?
            .ok_or_else(no_file)?;
        let action = if reason.is_some() {
            "document.hold_placed"
        } else {
            "document.hold_lifted"
        };
        self.file_audit(&mut w, &row, admin, action, json!({"reason": reason}))
            .await?;
        self.store
            .set_hold(&mut w, id, reason.as_deref(), admin)
            .await?;
        w.commit().await?;
        Ok(self.store.file(id).await?.ok_or_else(no_file)?.view())
    }

    /// `files-scrub`: re-hashes every stored file, 100 at a time; mismatches are flagged and
    /// told.
    pub async fn files_scrub(&self) -> Result<serde_json::Value, FileError> {
        let (mut checked, mut corrupted, mut missing) = (0u64, 0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let batch = self.store.files_after(after.as_deref(), 100).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id.clone());
            for row in batch {
                checked += 1;
                match self.blobs.hash(&row.storage_key).await {
                    Ok((hash, _)) if hash == row.checksum => {}
                    Ok((hash, _)) => {
                        corrupted += 1;
                        self.corrupted(&row, &hash, "scrub").await;
                    }
                    Err(e) if e.is_not_found() => {
                        missing += 1;
                        self.corrupted(&row, "missing", "scrub").await;
                    }
                    Err(e) => return Err(e.into()),
                }
                self.store.mark_scrubbed(&row.id).await?;
            }
        }
        Ok(json!({"checked": checked, "corrupted": corrupted, "missing": missing}))
    }
}

/// The stream of a download: reads the whole object, hashes it, passes on bytes `start..end`,
/// and holds back the last piece until the hash is known; a mismatch cuts the stream.
fn verified(
    inner: BoxStream<'static, Result<Bytes, BlobError>>,
    start: u64,
    end: u64,
    row: FileRow,
    services: Arc<Services>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    struct State {
        inner: BoxStream<'static, Result<Bytes, BlobError>>,
        hasher: Option<Sha256>,
        pos: u64,
        held: Option<Bytes>,
        done: bool,
    }
    let state = State {
        inner,
        hasher: Some(Sha256::new()),
        pos: 0,
        held: None,
        done: false,
    };
    futures_util::stream::unfold(state, move |mut s| {
        let (row, services) = (row.clone(), services.clone());
        async move {
            if s.done {
                return None;
            }
            loop {
                match s.inner.next().await {
                    Some(Ok(chunk)) => {
                        if let Some(h) = s.hasher.as_mut() {
                            h.update(&chunk);
                        }
                        let (from, to) = (s.pos, s.pos + chunk.len() as u64);
                        s.pos = to;
                        let (a, b) = (from.max(start), to.min(end));
                        if a < b {
                            let part = chunk.slice((a - from) as usize..(b - from) as usize);
                            if let Some(prev) = s.held.replace(part) {
                                return Some((Ok(prev), s));
                            }
                        }
                    }
                    Some(Err(e)) => {
                        s.done = true;
                        return Some((Err(std::io::Error::other(e.to_string())), s));
                    }
                    None => {
                        s.done = true;
                        let hash = s
                            .hasher
                            .take()
                            .map(|h| crate::store::hex_of(&h.finalize()))
                            .unwrap_or_default();
                        if hash == row.checksum {
                            return s.held.take().map(|last| (Ok(last), s));
                        }
                        let svc = services.clone();
                        let r = row.clone();
                        tokio::spawn(async move { svc.corrupted(&r, &hash, "download").await });
                        return Some((
                            Err(std::io::Error::other(
                                "the stored file does not match its checksum",
                            )),
                            s,
                        ));
                    }
                }
            }
        }
    })
}
