//! The Merkle log's use cases: its entries and RFC 6962 proofs for operators, and signed
//! checkpoints written outside the database.
//!
//! The store appends a leaf per audit and ledger entry in the commit that writes it (see
//! `store::auditlog`). The `audit-checkpoint` job signs the log's size and root as a C2SP
//! `tlog-checkpoint` with the operator's Ed25519 key, and writes it to the object store with
//! the leaf hashes appended since the previous checkpoint:
//!
//! - `audit/checkpoints/<size, 20 digits>-<root, hex>`: the signed note;
//! - `audit/leaves/<from, 20 digits>-<to, 20 digits>-<root, hex>`: the leaf hashes `from..to`,
//!   32 bytes each, in order.
//!
//! Before it signs, the job checks that the log still extends the latest checkpoint it finds
//! there (a consistency proof from the database's nodes): a log that was cut, rewritten or
//! rolled back is refused, reported, and never signed. Witnesses, when configured, get each
//! new checkpoint as C2SP `tlog-witness` `add-checkpoint` requests.

use crate::store::auditlog::{Kind, LogRow};
use crate::store::{BlobError, Blobs, Store, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hub_protocol::auditlog::{
    AuditKey, AuditRecord, CheckpointInfo, CheckpointList, ConsistencyProof, InclusionProof,
    LedgerRecord, LogEntry, LogEntryPage,
};
use hub_rooms::checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
use hub_rooms::merkle::{self, Frontier, Hash, NodeId};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Where checkpoints live in the object store.
pub const CHECKPOINTS: &str = "audit/checkpoints/";
/// Where the leaf hashes of each checkpoint live.
pub const LEAVES: &str = "audit/leaves/";
/// The most entries one page of `GET /api/v1/audit/entries` holds.
pub const MAX_PAGE: u64 = 1000;

/// The log's settings.
#[derive(Clone)]
pub struct AuditLogConfig {
    /// The first line of every checkpoint (`HUB_AUDIT_ORIGIN`).
    pub origin: String,
    /// The signer key, as `PRIVATE+KEY+<name>+<hash>+<key>` (`HUB_AUDIT_KEY_FILE`, or the
    /// one generated in `DATA_DIR`).
    pub key: String,
    /// `add-checkpoint` URLs of witnesses (`HUB_AUDIT_WITNESSES`).
    pub witnesses: Vec<String>,
    /// How long a witness may take to answer.
    pub witness_timeout: Duration,
}

impl std::fmt::Debug for AuditLogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLogConfig")
            .field("origin", &self.origin)
            .field("witnesses", &self.witnesses)
            .finish_non_exhaustive()
    }
}

/// The default origin.
pub const DEFAULT_ORIGIN: &str = "localhost/hub-audit";
/// How long a witness may take to answer, by default (`HUB_AUDIT_WITNESS_TIMEOUT`).
pub const DEFAULT_WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for AuditLogConfig {
    /// A fresh random key (tests; the binary always configures one).
    fn default() -> Self {
        AuditLogConfig {
            origin: DEFAULT_ORIGIN.into(),
            key: new_key(DEFAULT_ORIGIN).unwrap_or_default(),
            witnesses: Vec::new(),
            witness_timeout: DEFAULT_WITNESS_TIMEOUT,
        }
    }
}

/// A new signer key named `name`, as the key file holds it.
pub fn new_key(name: &str) -> Result<String, hub_rooms::checkpoint::NoteError> {
    Ok(NoteSigner::new(name, &rand::random::<[u8; 32]>())?.private_key())
}

/// The log's signer, where its checkpoints go, and what its last checkpoint run found.
pub struct AuditLog {
    store: Store,
    /// Where checkpoints and their leaves are written.
    blobs: Blobs,
    signer: NoteSigner,
    origin: String,
    witnesses: Vec<String>,
    http: reqwest::Client,
    /// Why the last run refused to sign, while it does.
    refused: Mutex<Option<String>>,
    /// The largest checkpoint size seen in the object store (listings start there).
    top: std::sync::atomic::AtomicU64,
}

impl AuditLog {
    /// The log of `config`, whose key the settings checked (see `config`).
    pub fn new(config: AuditLogConfig, store: Store, blobs: Blobs) -> AuditLog {
        let signer = NoteSigner::parse(&config.key).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the audit log's signer key does not parse: checkpoints are signed with a key of this process only");
            NoteSigner::new("invalid-key", &rand::random::<[u8; 32]>())
                .expect("a constant valid name")
        });
        let http = reqwest::Client::builder()
            .timeout(config.witness_timeout)
            .build()
            .unwrap_or_default();
        AuditLog {
            store,
            blobs,
            signer,
            origin: config.origin,
            witnesses: config.witnesses,
            http,
            refused: Mutex::new(None),
            top: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn verifier(&self) -> Result<NoteVerifier, LogError> {
        NoteVerifier::parse(&self.signer.vkey()).map_err(|e| LogError::Refused(e.to_string()))
    }

    /// Why the last checkpoint run refused to sign (`None` while it signs).
    pub fn refused(&self) -> Option<String> {
        self.refused.lock().map(|r| r.clone()).unwrap_or(None)
    }

    fn set_refused(&self, why: Option<String>) {
        if let Ok(mut r) = self.refused.lock() {
            *r = why;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The log does not extend its last checkpoint: nothing is signed.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

domain_error!(LogError);

impl crate::error::DomainError for LogError {
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            LogError::Invalid(_) => ErrorCode::Invalid,
            LogError::NotFound(_) => ErrorCode::NotFound,
            LogError::Refused(_) => ErrorCode::Conflict,
            LogError::Store(e) => e.code(),
            LogError::Blob(_) => ErrorCode::Unavailable,
        }
    }

    fn public_message(&self) -> String {
        match self {
            LogError::Store(s) => s.public_message(),
            LogError::Blob(b) => {
                tracing::warn!(error = %b, "dependency unavailable");
                "a dependency of the hub is unavailable; retry later".into()
            }
            other => other.to_string(),
        }
    }
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

/// The object key of a checkpoint.
pub fn checkpoint_key(size: u64, root: &Hash) -> String {
    format!("{CHECKPOINTS}{size:020}-{}", hex::encode(root))
}

/// The size a checkpoint's key names (`audit/checkpoints/<size>-<root>`).
fn size_of_key(key: &str) -> Option<u64> {
    key.rsplit('/').next()?.split('-').next()?.parse().ok()
}

/// The object key of the leaf hashes `from..to` of the checkpoint with `root`.
pub fn leaves_key(from: u64, to: u64, root: &Hash) -> String {
    format!("{LEAVES}{from:020}-{to:020}-{}", hex::encode(root))
}

impl AuditLog {
    /// The log's origin and verifier key.
    pub fn key(&self) -> AuditKey {
        AuditKey {
            origin: self.origin.clone(),
            vkey: self.signer.vkey(),
            public_key: B64.encode(self.signer.public_key()),
        }
    }

    /// The checkpoint notes of `keys` that open with this log's key (others are logged and
    /// left out), in the order given.
    async fn read_checkpoints(&self, keys: &[String]) -> Result<Vec<CheckpointInfo>, LogError> {
        let verifier = self.verifier()?;
        let mut out = Vec::new();
        for key in keys {
            let note = match self.blobs.get(key).await {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let Ok(body) = verifier.open(&note) else {
                tracing::warn!(
                    key,
                    "a checkpoint in the object store does not verify with the log's key"
                );
                continue;
            };
            let Ok(c) = Checkpoint::parse(body) else {
                continue;
            };
            out.push(CheckpointInfo {
                size: c.size,
                root: b64(&c.root),
                key: key.clone(),
                note,
            });
        }
        Ok(out)
    }

    /// Checkpoints smaller than `before`, largest first: `limit` of them, and every other one
    /// of the last size listed.
    pub async fn checkpoints(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<CheckpointList, LogError> {
        if limit == 0 || limit > MAX_PAGE as usize {
            return Err(LogError::Invalid(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        let mut keys: Vec<(u64, String)> = self
            .blobs
            .list(CHECKPOINTS)
            .await?
            .into_iter()
            .filter_map(|k| Some((size_of_key(&k)?, k)))
            .filter(|(size, _)| before.is_none_or(|b| *size < b))
            .collect();
        keys.sort_by(|a, b| b.cmp(a));
        let mut cut = keys.len().min(limit);
        while cut > 0 && cut < keys.len() && keys[cut].0 == keys[cut - 1].0 {
            cut += 1;
        }
        let has_more = cut < keys.len();
        let page: Vec<String> = keys.into_iter().take(cut).map(|(_, k)| k).collect();
        let mut checkpoints = self.read_checkpoints(&page).await?;
        checkpoints.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.key.cmp(&b.key)));
        Ok(CheckpointList {
            checkpoints,
            has_more,
        })
    }

    /// Every checkpoint of the largest size in the object store (one, unless the log forked).
    /// Only keys from the largest size seen before are listed, so this does not grow with the
    /// number of checkpoints kept.
    async fn latest_checkpoints(&self) -> Result<Vec<CheckpointInfo>, LogError> {
        let seen = self.top.load(std::sync::atomic::Ordering::Relaxed);
        let mut keys = self
            .blobs
            .list_after(CHECKPOINTS, &format!("{CHECKPOINTS}{seen:020}"))
            .await?;
        if keys.is_empty() && seen > 0 {
            // What was the largest is gone: look at everything again.
            keys = self.blobs.list(CHECKPOINTS).await?;
        }
        let sized: Vec<(u64, String)> = keys
            .into_iter()
            .filter_map(|k| Some((size_of_key(&k)?, k)))
            .collect();
        let Some(top) = sized.iter().map(|(s, _)| *s).max() else {
            return Ok(Vec::new());
        };
        let keys: Vec<String> = sized
            .into_iter()
            .filter(|(s, _)| *s == top)
            .map(|(_, k)| k)
            .collect();
        let found = self.read_checkpoints(&keys).await?;
        if !found.is_empty() {
            self.top.store(top, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(found)
    }

    /// The latest checkpoint (its signed note).
    pub async fn latest(&self) -> Result<CheckpointInfo, LogError> {
        self.latest_checkpoints()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| LogError::NotFound("no checkpoint yet".into()))
    }

    /// Leaf `index` and its entry.
    pub async fn entry(&self, index: u64) -> Result<LogEntry, LogError> {
        let rows = self.store.log_rows(index, index.saturating_add(1)).await?;
        rows.into_iter()
            .next()
            .map(log_entry)
            .ok_or_else(|| LogError::NotFound(format!("the log has no entry {index}")))
    }

    /// Up to `limit` leaves from `from`.
    pub async fn entries(&self, from: u64, limit: u64) -> Result<LogEntryPage, LogError> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(LogError::Invalid(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        let size = self.store.log_head().await?.size();
        let rows = self
            .store
            .log_rows(from, from.saturating_add(limit).min(size))
            .await?;
        Ok(LogEntryPage {
            entries: rows.into_iter().map(log_entry).collect(),
            size,
        })
    }

    /// The root of the tree of the first `size` leaves (`size` at most the log's).
    async fn root_at(&self, size: u64, head: &Frontier) -> Result<Hash, LogError> {
        if size == head.size() {
            return Ok(head.root());
        }
        let mut peaks = Vec::new();
        for id in Frontier::peak_ids(size) {
            peaks.push(self.store.log_node(id).await?);
        }
        Ok(merkle::fold(&peaks).unwrap_or_else(merkle::empty_root))
    }

    /// The proof a plan names, from the stored nodes.
    async fn proof_of(
        &self,
        plan: Result<Vec<Vec<NodeId>>, merkle::ProofError>,
    ) -> Result<Vec<Hash>, LogError> {
        let plan = plan.map_err(|e| LogError::Invalid(e.to_string()))?;
        let mut nodes = BTreeMap::new();
        for id in plan.iter().flatten() {
            if !nodes.contains_key(id) {
                nodes.insert(*id, self.store.log_node(*id).await?);
            }
        }
        merkle::assemble(&plan, |id| nodes.get(&id).copied())
            .map_err(|e| LogError::Invalid(e.to_string()))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` (the log's size by default).
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, LogError> {
        let head = self.store.log_head().await?;
        let size = size.unwrap_or(head.size());
        covers(&head, size)?;
        let proof = self.proof_of(merkle::inclusion_plan(index, size)).await?;
        let leaf = self
            .store
            .log_leaf_hashes(index, index + 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| LogError::NotFound(format!("the log has no entry {index}")))?;
        Ok(InclusionProof {
            index,
            size,
            leaf_hash: b64(&leaf),
            root: b64(&self.root_at(size, &head).await?),
            proof: proof.iter().map(b64).collect(),
        })
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to` (the log's size
    /// by default).
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyProof, LogError> {
        let head = self.store.log_head().await?;
        let to = to.unwrap_or(head.size());
        covers(&head, to)?;
        let proof = self.proof_of(merkle::consistency_plan(from, to)).await?;
        Ok(ConsistencyProof {
            from,
            to,
            from_root: b64(&self.root_at(from, &head).await?),
            to_root: b64(&self.root_at(to, &head).await?),
            proof: proof.iter().map(b64).collect(),
        })
    }

    /// The `audit-checkpoint` job: signs the log's head when it grew since the latest
    /// checkpoint and extends it, and writes it outside the database.
    pub async fn checkpoint_job(&self) -> Result<serde_json::Value, LogError> {
        let outcome = self.make_checkpoint().await;
        match &outcome {
            Err(LogError::Refused(why)) => {
                if self.refused().as_deref() != Some(why) {
                    tracing::error!(reason = %why, "the audit log does not extend its last checkpoint: not signed");
                }
                self.set_refused(Some(why.clone()));
            }
            Ok(_) => self.set_refused(None),
            Err(_) => {}
        }
        outcome
    }

    async fn make_checkpoint(&self) -> Result<serde_json::Value, LogError> {
        let head = self.store.log_head().await?;
        let (size, root) = (head.size(), head.root());
        let latest = self.latest_checkpoints().await?;
        // Every checkpoint of the largest size must agree; the log must extend it.
        let (from, from_root) = match latest.first() {
            None => (0, None),
            Some(top) => {
                let top_root = decode_root(&top.root)?;
                if latest
                    .iter()
                    .take_while(|c| c.size == top.size)
                    .any(|c| c.root != top.root)
                {
                    return Err(LogError::Refused(format!(
                        "two checkpoints of size {} hold different roots",
                        top.size
                    )));
                }
                (top.size, Some(top_root))
            }
        };
        if size < from {
            return Err(LogError::Refused(format!(
                "the log holds {size} entries, fewer than the {from} of its last checkpoint"
            )));
        }
        let mut proof = Vec::new();
        if let Some(old) = from_root {
            if size == from {
                if root != old {
                    return Err(LogError::Refused(format!(
                        "the log's root at size {size} is not its checkpoint's"
                    )));
                }
                return Ok(
                    serde_json::json!({"size": size, "signed": false, "reason": "the log did not grow"}),
                );
            }
            proof = self.proof_of(merkle::consistency_plan(from, size)).await?;
            if !merkle::verify_consistency(from, size, &old, &root, &proof) {
                return Err(LogError::Refused(format!(
                    "the log of {size} entries does not extend its checkpoint of {from}"
                )));
            }
        }
        if size == 0 {
            return Ok(
                serde_json::json!({"size": 0, "signed": false, "reason": "the log is empty"}),
            );
        }
        let leaves = self.store.log_leaf_hashes(from, size).await?;
        if leaves.len() as u64 != size - from {
            return Err(LogError::Refused(format!(
                "the log lacks leaves between {from} and {size}"
            )));
        }
        let body = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
            extensions: Vec::new(),
        }
        .body();
        let note = self
            .signer
            .sign(&body)
            .map_err(|e| LogError::Invalid(e.to_string()))?;
        let bytes: Vec<u8> = leaves.concat();
        self.blobs
            .put(&leaves_key(from, size, &root), bytes.into())
            .await?;
        let key = checkpoint_key(size, &root);
        self.blobs
            .put(&key, note.clone().into_bytes().into())
            .await?;
        metrics::gauge!("hub_audit_log_checkpoint_size").set(size as f64);
        let witnesses = self.tell_witnesses(from, &proof, &note).await;
        Ok(serde_json::json!({
            "size": size,
            "root": b64(&root),
            "signed": true,
            "key": key,
            "witnesses": witnesses,
        }))
    }

    /// POSTs the checkpoint to every witness (C2SP `tlog-witness` `add-checkpoint`: the old
    /// size, the consistency proof, a blank line, the note); answers each one's status.
    async fn tell_witnesses(
        &self,
        from: u64,
        proof: &[Hash],
        note: &str,
    ) -> Vec<serde_json::Value> {
        let mut body = format!("old {from}\n");
        for h in proof {
            body.push_str(&b64(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        let mut out = Vec::new();
        for url in &self.witnesses {
            let answer = self
                .http
                .post(url)
                .header("content-type", "text/plain; charset=utf-8")
                .body(body.clone())
                .send()
                .await;
            let status = match answer {
                Ok(r) => {
                    let code = r.status().as_u16();
                    if !r.status().is_success() {
                        tracing::warn!(witness = %url, status = code, "a witness refused the checkpoint");
                    }
                    serde_json::json!({"url": url, "status": code})
                }
                Err(e) => {
                    tracing::warn!(witness = %url, error = %e, "a witness did not answer");
                    serde_json::json!({"url": url, "error": e.to_string()})
                }
            };
            out.push(status);
        }
        out
    }
}

/// Refuses a tree size past the log's.
fn covers(head: &Frontier, size: u64) -> Result<(), LogError> {
    if size > head.size() {
        return Err(LogError::Invalid(format!(
            "the log holds {} entries, fewer than {size}",
            head.size()
        )));
    }
    Ok(())
}

fn decode_root(text: &str) -> Result<Hash, LogError> {
    B64.decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| LogError::Invalid(format!("{text:?} is not a base64 SHA-256 hash")))
}

fn log_entry(row: LogRow) -> LogEntry {
    let leaf = crate::store::auditlog::leaf_of(row.kind, &row.chain, row.seq, &row.hash);
    LogEntry {
        index: row.index,
        kind: row.kind.as_str().to_owned(),
        leaf,
        leaf_hash: b64(&row.leaf_hash),
        audit: row
            .audit
            .filter(|_| row.kind == Kind::Audit)
            .map(|a| AuditRecord {
                id: a.id,
                scope: a.scope,
                seq: a.seq,
                ref_id: a.ref_id,
                actor_id: a.actor_id,
                action: a.action,
                details: a.details,
                created_at: a.created_at,
                prev_hash: a.prev_hash,
                hash: a.hash,
            }),
        ledger: row
            .ledger
            .filter(|_| row.kind == Kind::Ledger)
            .map(|l| LedgerRecord {
                id: l.id,
                wallet_id: l.wallet_id.into(),
                seq: l.seq,
                kind: l.kind,
                amount: l.amount,
                balance_after: l.balance_after,
                task_id: l.task_id.map(Into::into),
                review_id: l.review_id,
                conversion_id: l.conversion_id.map(Into::into),
                note: l.note,
                created_at: l.created_at,
                prev_hash: l.prev_hash,
                hash: l.hash,
            }),
    }
}
