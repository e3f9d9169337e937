//! A loaded document's life after its last connection: it unloads once idle (what it holds
//! that is not logged is saved first), and its log is folded into the snapshot then, and
//! whenever it grows past the thresholds, by one node at a time (a lease).

use super::{COMPACTION_LEASE, CloseReason, Conn, Docs, LoadedDoc};
use crate::store::StoreError;
use hub_protocol::DocId;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl Docs {
    pub(super) async fn unload_if_idle(&self, doc: &Arc<LoadedDoc>, epoch: u64) {
        let unlogged = {
            let mut registry = self.registry();
            let inner = doc.lock();
            if !inner.conns.is_empty() || inner.epoch != epoch {
                return;
            }
            let still_this = registry
                .get(&doc.id)
                .and_then(|c| c.get())
                .is_some_and(|d| Arc::ptr_eq(d, doc));
            if still_this {
                registry.remove(&doc.id);
                doc.stop_listening();
            }
            inner.unlogged.then(|| inner.session.state())
        };
        if let Some(state) = unlogged
            && let Err(e) = self.store.doc_append(doc.id.as_str(), &state).await
        {
            tracing::error!(doc = %doc.id, error = %e, "could not save a document at unload");
        }
        self.compact(doc).await;
        tracing::debug!(doc = %doc.id, "document unloaded");
    }

    pub(super) fn spawn_compaction(self: &Arc<Self>, doc: Arc<LoadedDoc>) {
        if doc.compacting.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            this.compact(&doc).await;
            doc.compacting.store(false, Ordering::Release);
        });
    }

    /// Folds the document's log into its snapshot, if no other node is doing it now: one
    /// compactor per document across the cluster (a lease; the fold itself is also one
    /// transaction under the document's row lock).
    async fn compact(&self, doc: &LoadedDoc) {
        let lease = format!("doc-compact:{}", doc.id);
        match self
            .store
            .take_lease(&lease, self.node.as_str(), COMPACTION_LEASE)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                // Another node folds the log now, this node's appends included.
                let mut inner = doc.lock();
                inner.logged = 0;
                inner.logged_bytes = 0;
                return;
            }
            Err(e) => {
                tracing::warn!(doc = %doc.id, error = %e, "cannot take the compaction lease");
                return;
            }
        }
        self.fold(doc).await;
        if let Err(e) = self.store.release_lease(&lease, self.node.as_str()).await {
            tracing::debug!(doc = %doc.id, error = %e, "compaction lease not released; it expires");
        }
    }

    async fn fold(&self, doc: &LoadedDoc) {
        match self.store.doc_compact(doc.id.as_str()).await {
            Ok(folded) => {
                let mut inner = doc.lock();
                inner.logged = inner.logged.saturating_sub(folded as u64);
                if inner.logged == 0 {
                    inner.logged_bytes = 0;
                }
                self.stats.compactions.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("hub_doc_compactions_total").increment(1);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => tracing::error!(doc = %doc.id, error = %e, "compaction failed"),
        }
    }

    /// A document was deleted: its connections are closed and it is dropped from memory.
    pub fn forget(&self, id: &DocId) {
        let doc = self.registry().remove(id).and_then(|c| c.get().cloned());
        if let Some(doc) = doc {
            doc.stop_listening();
            let conns: Vec<Conn> = doc.lock().conns.drain().map(|(_, c)| c).collect();
            for conn in conns {
                conn.sink.close(&doc.id, CloseReason::Deleted);
            }
        }
    }
}
