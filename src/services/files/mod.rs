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

use super::access::Access as Membership;
use super::after_commit::AfterCommit;
use super::notifications::Notifications;
use super::webhooks::Outbox;
use crate::clock::SharedClock;
use crate::clock::rfc3339;
/// A stored document's row, as the services hand it to a transport to serve its content.
pub use crate::store::FileRow;
use crate::store::{BlobError, NewAudit, Perms, StoreError, WriteTx};
use crate::store::{Blobs, Store};
use crate::store::{CommentRow, ShareRow};
use hub_protocol::files::{Comment, FileDoc, Share};
use hub_protocol::{FileId, UserId};
use hub_rooms::fields::FieldError;
use hub_rooms::files::DEFAULT_TYPES;
use serde_json::json;
use std::path::PathBuf;
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

impl FilesConfig {
    /// The largest upload by default, bytes.
    pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;
    /// How long a client link lives by default.
    pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(30 * 86_400);
    /// How much of a refused upload is read by default.
    pub const DEFAULT_DRAIN_BYTES: u64 = 32 * 1024 * 1024;
    /// How long a refused upload is read by default.
    pub const DEFAULT_DRAIN_TIME: Duration = Duration::from_secs(10);
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            url: None,
            s3_options: Vec::new(),
            dir: PathBuf::from("data/files"),
            max_bytes: Self::DEFAULT_MAX_BYTES,
            types: DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
            link_ttl: Self::DEFAULT_LINK_TTL,
            drain_bytes: Self::DEFAULT_DRAIN_BYTES,
            drain_time: Self::DEFAULT_DRAIN_TIME,
        }
    }
}

/// Flags of uploaded files.
#[derive(Debug, Clone, clap::Args)]
pub struct FilesArgs {
    /// Where uploaded files live: `s3://bucket/prefix` (with the usual AWS_* variables), or
    /// unset for `DATA_DIR/files`.
    #[arg(long, env = "HUB_FILES_URL")]
    pub files_url: Option<String>,
    /// The largest upload, in bytes.
    #[arg(long, env = "HUB_FILES_MAX_BYTES", default_value_t = FilesConfig::DEFAULT_MAX_BYTES)]
    pub files_max_bytes: u64,
    /// Content types accepted for uploads, comma separated (default: PDF, images, text, CSV,
    /// Markdown, JSON, ZIP and office documents).
    #[arg(long, env = "HUB_FILES_TYPES", value_delimiter = ',')]
    pub files_types: Vec<String>,
    /// How much of a refused upload's body the hub still reads and drops, so that the client
    /// sees the answer (413, 415, 400...) instead of a reset; a larger body is cut off.
    #[arg(long, env = "HUB_UPLOAD_DRAIN_BYTES", default_value_t = FilesConfig::DEFAULT_DRAIN_BYTES)]
    pub upload_drain_bytes: u64,
    /// How long the hub reads a refused upload's body at most before it answers.
    #[arg(long, env = "HUB_UPLOAD_DRAIN_TIME", default_value_t = FilesConfig::DEFAULT_DRAIN_TIME.into())]
    pub upload_drain_time: humantime::Duration,
    /// How long a document link shared with a client lives when its share has no expiry.
    #[arg(long, env = "HUB_SHARE_LINK_TTL", default_value_t = FilesConfig::DEFAULT_LINK_TTL.into())]
    pub share_link_ttl: humantime::Duration,
}

impl FilesArgs {
    /// The files settings, their local directory under `data_dir`.
    pub fn resolve(&self, data_dir: &std::path::Path) -> anyhow::Result<FilesConfig> {
        if let Some(url) = &self.files_url
            && !url.starts_with("s3://")
        {
            anyhow::bail!("HUB_FILES_URL {url:?} is not an s3://bucket/prefix URL");
        }
        if self.files_max_bytes == 0 {
            anyhow::bail!("HUB_FILES_MAX_BYTES must be at least 1");
        }
        let types: Vec<String> = self
            .files_types
            .iter()
            .map(|t| hub_rooms::files::essence(t))
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(t) = types.iter().find(|t| !DEFAULT_TYPES.contains(&t.as_str())) {
            anyhow::bail!(
                "HUB_FILES_TYPES: the hub cannot recognise {t:?} from its first bytes; known: {}",
                DEFAULT_TYPES.join(", ")
            );
        }
        let defaults = FilesConfig::default();
        Ok(FilesConfig {
            url: self.files_url.clone(),
            s3_options: Vec::new(),
            dir: data_dir.join("files"),
            max_bytes: self.files_max_bytes,
            types: if types.is_empty() {
                defaults.types
            } else {
                types
            },
            link_ttl: *self.share_link_ttl,
            drain_bytes: self.upload_drain_bytes,
            drain_time: *self.upload_drain_time,
        })
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

    fn refusal(&self) -> Option<crate::error::Refusal> {
        use crate::error::Refusal;
        match self {
            FileError::Field(f) => f.refusal(),
            FileError::UnsupportedType(_) => Some(Refusal::UnsupportedType),
            FileError::Unsatisfiable(_) => Some(Refusal::RangeOutside),
            _ => None,
        }
    }
}

impl FileRow {
    /// The document as clients see it.
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
}

impl ShareRow {
    /// The share as its document's owner sees it (a client link is added where it is made).
    pub fn view(&self) -> Share {
        Share {
            id: self.id.clone(),
            document_id: self.file_id.clone(),
            to_user_id: self.to_user_id.clone(),
            client_id: self.client_id.clone(),
            can_view: self.perms.view,
            can_comment: self.perms.comment,
            can_sign: self.perms.sign,
            expires_at: self.expires_at.map(rfc3339),
            revoked: self.revoked_at.is_some(),
            created_by: self.created_by.clone(),
            created_at: rfc3339(self.created_at),
            link: None,
        }
    }
}

/// A comment as clients see it.
pub fn comment_view(row: CommentRow) -> Comment {
    Comment {
        id: row.id,
        document_id: row.file_id,
        author_id: row.author_id,
        body: row.body,
        created_at: rfc3339(row.created_at),
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

mod comments;
mod content;
mod shares;
mod upload;

pub use content::Content;
pub use upload::{Upload, UploadMeta};

/// Uploaded documents, their shares, comments, holds and content.
#[derive(Clone)]
pub struct Files {
    store: Store,
    /// Whether an uploader belongs to the venture they file a document in.
    access: Membership,
    /// Where the contents live.
    blobs: Blobs,
    notifications: Notifications,
    after: AfterCommit,
    outbox: Outbox,
    clock: SharedClock,
    /// Shared, so that the handle a download keeps is cheap to take.
    config: std::sync::Arc<FilesConfig>,
}

impl Files {
    pub fn new(
        store: Store,
        access: Membership,
        blobs: Blobs,
        notifications: Notifications,
        after: AfterCommit,
        outbox: Outbox,
        clock: SharedClock,
        config: FilesConfig,
    ) -> Files {
        Files {
            store,
            access,
            blobs,
            notifications,
            after,
            outbox,
            clock,
            config: std::sync::Arc::new(config),
        }
    }

    /// The files settings.
    pub fn config(&self) -> &FilesConfig {
        &self.config
    }

    /// Records what happened to `row` in its audit chain.
    pub(super) async fn audit(
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
                    ref_id: Some(row.id.as_str()),
                    actor_id: Some(actor.as_str()),
                    action,
                    details,
                },
            )
            .await?;
        Ok(())
    }

    /// The file and what `caller` may do with it; "not found" when nothing.
    pub async fn visible(
        &self,
        caller: &UserId,
        id: &FileId,
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
    pub(super) async fn owned(&self, caller: &UserId, id: &FileId) -> Result<FileRow, FileError> {
        let (row, access) = self.visible(caller, id).await?;
        if !access.owner {
            return Err(FileError::Forbidden(
                "only the document's owner may do that".into(),
            ));
        }
        Ok(row)
    }

    /// `mine` or `shared` documents of `caller`.
    pub async fn list(&self, caller: &UserId, shared: bool) -> Result<Vec<FileDoc>, FileError> {
        let rows = if shared {
            self.store
                .files_shared_with(caller, self.clock.now_ms())
                .await?
        } else {
            self.store.files_of(caller).await?
        };
        Ok(rows.iter().map(FileRow::view).collect())
    }

    /// Deletes a document (its owner; refused while on hold).
    pub async fn delete(&self, caller: &UserId, id: &FileId) -> Result<(), FileError> {
        self.owned(caller, id).await?;
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
        self.audit(
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
}
