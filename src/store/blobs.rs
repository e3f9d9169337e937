//! The content of uploaded files, in an object store: a directory under `DATA_DIR` by default,
//! or an S3-compatible bucket (`HUB_FILES_URL=s3://bucket/prefix`, credentials and endpoint
//! from the usual `AWS_*` variables). A cluster needs the bucket: every node must read what any
//! node wrote.
//!
//! Writes stream in parts (object_store's multipart upload, 5 MiB parts): a file is never whole
//! in memory, its SHA-256 and size are computed as it goes, and an upload that breaks off is
//! aborted, leaving nothing behind.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
#[error("object store: {0}")]
pub struct BlobError(#[from] object_store::Error);

impl BlobError {
    pub fn is_not_found(&self) -> bool {
        matches!(self.0, object_store::Error::NotFound { .. })
    }
}

/// Where file contents live.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// `local` or `s3`, for logs and health.
    pub kind: &'static str,
    /// Where, for logs (no credentials).
    pub location: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blobs({} at {})", self.kind, self.location)
    }
}

impl Blobs {
    /// A directory on this machine (created when missing).
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Blobs> {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the files directory {}: {e}", dir.display())
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Blobs {
            store: Arc::new(store),
            kind: "local",
            location: dir.display().to_string(),
        })
    }

    /// An S3-compatible bucket at `url` (`s3://bucket[/prefix]`), configured from the `AWS_*`
    /// environment and then from `options` (object_store's S3 keys: `endpoint`, `region`,
    /// `access_key_id`, `secret_access_key`, `allow_http`, …).
    pub fn s3(url: &str, options: &[(String, String)]) -> anyhow::Result<Blobs> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("HUB_FILES_URL must be s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            anyhow::bail!("HUB_FILES_URL names no bucket");
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key: object_store::aws::AmazonS3ConfigKey = key
                .parse()
                .map_err(|e| anyhow::anyhow!("S3 option {key}: {e}"))?;
            builder = builder.with_config(key, value);
        }
        let s3 = builder.build()?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(Blobs {
            store,
            kind: "s3",
            location: url.to_owned(),
        })
    }

    /// Checks that the store answers (a missing object is an answer).
    pub async fn probe(&self) -> Result<(), BlobError> {
        match self.store.head(&Path::from("hub-probe")).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts writing `key`.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        Ok(BlobWriter {
            inner: WriteMultipart::new(upload),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// The content of `key`, as it streams.
    pub async fn read(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let got = self.store.get(&Path::from(key)).await?;
        Ok(got
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed())
    }

    /// Bytes `range` of `key`, as they stream (only those are read).
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        let got = self.store.get_opts(&Path::from(key), options).await?;
        Ok(got
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed())
    }

    /// The SHA-256 (hex) and size of `key`, read through.
    pub async fn hash(&self, key: &str) -> Result<(String, u64), BlobError> {
        let mut stream = self.read(key).await?;
        let (mut hasher, mut size) = (Sha256::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex(&hasher.finalize()), size))
    }

    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole content of `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        Ok(self.store.get(&Path::from(key)).await?.bytes().await?)
    }

    /// The keys under `prefix` (a folder, ending with `/`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let prefix = Path::from(prefix.trim_end_matches('/'));
        sorted_keys(self.store.list(Some(&prefix))).await
    }

    /// The keys under `prefix` that sort after `offset` (S3 starts the listing there), sorted.
    pub async fn list_after(&self, prefix: &str, offset: &str) -> Result<Vec<String>, BlobError> {
        let prefix = Path::from(prefix.trim_end_matches('/'));
        sorted_keys(
            self.store
                .list_with_offset(Some(&prefix), &Path::from(offset)),
        )
        .await
    }

    /// Overwrites `key` with `bytes` (for repair tools and tests that damage a file).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(&Path::from(key), bytes.into()).await?;
        Ok(())
    }
}

/// A file being written: its bytes, their hash and count.
pub struct BlobWriter {
    inner: WriteMultipart,
    hasher: Sha256,
    size: u64,
}

impl BlobWriter {
    /// Adds `bytes`, waiting while two parts are in flight (so memory stays bounded).
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        self.hasher.update(&bytes);
        self.size += bytes.len() as u64;
        self.inner.wait_for_capacity(2).await?;
        self.inner.put(bytes);
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Completes the file: its SHA-256 (hex) and size.
    pub async fn finish(self) -> Result<(String, u64), BlobError> {
        let hash = hex(&self.hasher.finalize());
        self.inner.finish().await?;
        Ok((hash, self.size))
    }

    /// Drops what was written.
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, "cannot abort an upload");
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys of a listing, sorted (object stores do not promise an order).
async fn sorted_keys(
    listing: futures_util::stream::BoxStream<'_, object_store::Result<object_store::ObjectMeta>>,
) -> Result<Vec<String>, BlobError> {
    let mut keys: Vec<String> = listing
        .map(|m| m.map(|m| m.location.to_string()))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    keys.sort();
    Ok(keys)
}
