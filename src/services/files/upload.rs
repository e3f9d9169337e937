//! Uploads: the bytes stream into the object store while their SHA-256 and size are counted and
//! their type is checked against what they say; the row and its audit entry are written once
//! the object is complete.

use super::{FileError, Files};
use crate::services::effects::{Effects, FeedTo};
use crate::store::{BlobWriter, FileRow, new_id};
use bytes::Bytes;
use hub_protocol::files::FileDoc;
use hub_protocol::{ClientId, FileId, UserId, VentureId};
use hub_rooms::files::{
    SNIFF_BYTES, TextCheck, check_declared, check_meta, check_type, clean_file_name, essence,
    is_text_type,
};
use serde_json::json;

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

impl Files {
    /// Starts an upload of a file declared as `declared` and named `file_name`; a type off the
    /// list is refused before anything is written.
    pub async fn begin_upload(&self, declared: &str, file_name: &str) -> Result<Upload, FileError> {
        let cfg = &self.config;
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
    pub(super) async fn record_file(
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
                        crate::services::access::Caller {
                            user: owner,
                            privileged: false,
                        },
                        &v,
                    )
                    .await?;
                Some(v)
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
                    .client(owner, &ClientId::from(c))
                    .await?
                    .ok_or_else(|| FileError::NotFound("no such client".into()))?
                    .id,
            ),
            None => None,
        };
        let row = FileRow {
            id: FileId::from(id),
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
        self.audit(
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
        self.outbox
            .emit(
                &self.store,
                &mut w,
                "document.uploaded",
                None,
                &json!({"document": row.view(), "by": owner}),
            )
            .await?;
        if let Some(v) = &row.venture_id {
            fx.feed(
                FeedTo::Venture(VentureId::from(v.as_str())),
                Some(owner),
                "document.uploaded",
                ("file", row.id.as_str()),
                json!({"title": row.title, "type": row.kind}),
            );
        }
        self.after.finish(w, fx).await?;
        metrics::counter!("hub_files_uploaded_total").increment(1);
        Ok(row.view())
    }
}
