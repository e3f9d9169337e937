//! Downloads verified as they go, the flag on a file whose bytes no longer match their
//! checksum, and the `files-scrub` job that re-hashes every stored file.

use super::{FileError, Files};
use crate::store::{BlobError, FileRow, NewAudit};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use hub_protocol::FileId;
use hub_protocol::notifications::{FileCorruptedData, NotificationBody};
use hub_rooms::files::{ByteRange, RangeAsk, parse_range};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The bytes of a download, verified as they go.
pub struct Content {
    pub row: FileRow,
    /// `None` for the whole file.
    pub range: Option<ByteRange>,
    pub stream: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

impl Files {
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
                let me = Arc::new(self.clone());
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
                        ref_id: Some(row.id.as_str()),
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
            self.notifications
                .add(&admin, NotificationBody::FileCorrupted(data))
                .await;
        }
    }

    /// `files-scrub`: re-hashes every stored file, 100 at a time; mismatches are flagged and
    /// told.
    pub async fn scrub(&self) -> Result<serde_json::Value, FileError> {
        let (mut checked, mut corrupted, mut missing) = (0u64, 0u64, 0u64);
        let mut after: Option<FileId> = None;
        loop {
            let batch = self.store.files_after(after.as_ref(), 100).await?;
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
    services: Arc<Files>,
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
