//! Loaded collaborative documents.
//!
//! Invariants:
//! - one [`LoadedDoc`] per document on a node; concurrent first opens share one load (a
//!   `OnceCell` per document id);
//! - its yrs state sits behind a std mutex held for in-memory work only, never across `.await`;
//! - an update from a connection is appended to the log before it is relayed to anyone; the
//!   appends of concurrent frames share one statement (a group commit, [`GroupCommit`]);
//! - every connection has a bounded queue: one that overflows is closed, never skipped (its
//!   client reconnects and the state vectors repair it exactly);
//! - a connection's awareness states are removed, and the removal relayed, when it leaves;
//! - a document without connections unloads after the idle time; its log is compacted then,
//!   and whenever it grows past the thresholds;
//! - updates and awareness also go over the bus on the document's own topic
//!   ([`Topic::doc`]), so every node holding the document applies them and relays them to its
//!   own connections; a node takes the topic before it reads the log at load (nothing
//!   published meanwhile is missed: a writer logs before it publishes) and releases it at
//!   unload; a lagging listener re-reads the log.
//!
//! Here: loading, connections, frames in and out. Beside it: `catalog` (a room's documents as
//! its members manage them), `lifecycle` (unload and compaction), `bus` (the document's
//! topic), `membership` (access changes reaching connections), `sink` (a connection's side).

mod bus;
mod catalog;
mod lifecycle;
mod membership;
mod sink;

pub use membership::OpenConn;
pub use sink::{CloseReason, DocSink, Sink};

use super::access::{Access, AccessError};
use super::activity::Activity;
use super::batch::GroupCommit;
use crate::bus::{Bus, DocFrameKind, Topic};
use crate::clock::SharedClock;
use crate::store::{Store, StoreError};
use bytes::Bytes;
use hub_protocol::{DocId, NodeId, RoomId, UserId};
use hub_rooms::doc::{ConnKey, DocError, DocLimits, DocSession, Outcome};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::sync::oneshot;

/// The group commit of the update log: a frame's updates in, once they are durable.
type LogCommits = GroupCommit<(DocId, Vec<Vec<u8>>), Result<(), StoreError>>;

/// Concurrent frames' updates, of any documents here, go to the log in one statement (at most
/// `max` frames'); each frame is relayed only once its updates are in.
fn log_commits(store: Store, max: usize) -> LogCommits {
    GroupCommit::new(
        max,
        max.saturating_mul(4),
        move |batch: Vec<(DocId, Vec<Vec<u8>>)>| {
            let store = store.clone();
            async move {
                let rows: Vec<(&str, &[u8])> = batch
                    .iter()
                    .flat_map(|(doc, updates)| updates.iter().map(|u| (doc.as_str(), u.as_slice())))
                    .collect();
                match store.doc_append_many(&rows).await {
                    Ok(()) => batch.iter().map(|_| Ok(())).collect(),
                    Err(e) => e.for_each(batch.len()),
                }
            }
        },
    )
}

/// How long a node may hold a document's compaction before another may take it over.
const COMPACTION_LEASE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct DocsConfig {
    pub limits: DocLimits,
    /// A document without connections unloads after this long.
    pub idle_unload: Duration,
    /// Compact when this many updates were logged since the last snapshot...
    pub compact_updates: u64,
    /// ...or this many bytes.
    pub compact_bytes: usize,
    /// Documents one Socket.IO connection may have open at once.
    pub max_docs_per_socket: usize,
    /// Bytes queued for one `/yjs` connection before it is closed as too slow.
    pub queue_bytes: usize,
    /// Most frames' updates appended to the log in one statement (a group commit).
    pub group_commit: usize,
    /// Most frames of one `/yjs` connection, already read, handled as one batch (their
    /// updates merged, logged and relayed as one).
    pub read_batch: usize,
}

impl DocsConfig {
    /// The defaults (the flags of [`DocsArgs`] start from them).
    pub const DEFAULT: DocsConfig = DocsConfig {
        limits: DocLimits::DEFAULT,
        idle_unload: Duration::from_secs(30),
        compact_updates: 500,
        compact_bytes: 1024 * 1024,
        max_docs_per_socket: 32,
        queue_bytes: 4 * 1024 * 1024,
        group_commit: 512,
        read_batch: 32,
    };
}

impl Default for DocsConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Document flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DocsArgs {
    /// A document without connections unloads from memory after this long.
    #[arg(long, env = "HUB_DOC_IDLE", default_value_t = DocsConfig::DEFAULT.idle_unload.into())]
    pub doc_idle: humantime::Duration,
    /// Largest document update in one message, in bytes.
    #[arg(long, env = "HUB_DOC_MAX_UPDATE", default_value_t = DocLimits::DEFAULT.max_update_bytes)]
    pub doc_max_update: usize,
    /// Largest document, in bytes of the updates it is made of.
    #[arg(long, env = "HUB_DOC_MAX_SIZE", default_value_t = DocLimits::DEFAULT.max_doc_bytes)]
    pub doc_max_size: usize,
    /// Documents one Socket.IO connection may have open at once.
    #[arg(long, env = "HUB_DOCS_PER_SOCKET", default_value_t = DocsConfig::DEFAULT.max_docs_per_socket)]
    pub docs_per_socket: usize,
    /// Bytes queued for one `/yjs` connection before it is closed as too slow.
    #[arg(long, env = "HUB_DOC_QUEUE_BYTES", default_value_t = DocsConfig::DEFAULT.queue_bytes)]
    pub doc_queue_bytes: usize,
    /// Most document frames whose updates go to the log in one statement: frames that arrive
    /// while a write is in flight go together in the next one (no waiting window).
    #[arg(long, env = "HUB_DOC_GROUP_COMMIT", default_value_t = DocsConfig::DEFAULT.group_commit)]
    pub doc_group_commit: usize,
    /// Most frames of one `/yjs` connection, already read, handled together: their updates
    /// are merged into one, logged in one row and relayed as one frame (1 turns it off).
    #[arg(long, env = "HUB_DOC_READ_BATCH", default_value_t = DocsConfig::DEFAULT.read_batch)]
    pub doc_read_batch: usize,
    /// Largest awareness message (the JSON of its states), in bytes.
    #[arg(long, env = "HUB_DOC_MAX_AWARENESS", default_value_t = DocLimits::DEFAULT.max_awareness_bytes)]
    pub doc_max_awareness: usize,
    /// Awareness messages one document connection may send per second, sustained.
    #[arg(long, env = "HUB_DOC_AWARENESS_RATE", default_value_t = DocLimits::DEFAULT.awareness_per_second)]
    pub doc_awareness_rate: f64,
    /// Awareness messages one document connection may send at once.
    #[arg(long, env = "HUB_DOC_AWARENESS_BURST", default_value_t = DocLimits::DEFAULT.awareness_burst)]
    pub doc_awareness_burst: u32,
}

impl DocsArgs {
    pub fn resolve(&self) -> anyhow::Result<DocsConfig> {
        if !(1..=10_000).contains(&self.doc_group_commit) {
            anyhow::bail!("HUB_DOC_GROUP_COMMIT must be between 1 and 10000");
        }
        if !(1..=1024).contains(&self.doc_read_batch) {
            anyhow::bail!("HUB_DOC_READ_BATCH must be between 1 and 1024");
        }
        if !(self.doc_awareness_rate.is_finite() && self.doc_awareness_rate > 0.0)
            || self.doc_awareness_burst == 0
        {
            anyhow::bail!(
                "HUB_DOC_AWARENESS_RATE must be a positive number and HUB_DOC_AWARENESS_BURST at least 1"
            );
        }
        Ok(DocsConfig {
            limits: DocLimits {
                max_update_bytes: self.doc_max_update,
                max_doc_bytes: self.doc_max_size,
                max_awareness_bytes: self.doc_max_awareness,
                awareness_per_second: self.doc_awareness_rate,
                awareness_burst: self.doc_awareness_burst,
            },
            idle_unload: *self.doc_idle,
            max_docs_per_socket: self.docs_per_socket,
            queue_bytes: self.doc_queue_bytes,
            group_commit: self.doc_group_commit,
            read_batch: self.doc_read_batch,
            ..DocsConfig::DEFAULT
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such document")]
    NotFound,
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A request about documents that cannot be met as sent (a title, a room).
    #[error("{0}")]
    Invalid(String),
    /// Allowed to see the document, not to do this with it.
    #[error("{0}")]
    Forbidden(String),
}

impl crate::error::DomainError for DocsError {
    /// The stable code of this error (see [`crate::error::DomainError::code`]).
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            DocsError::Doc(
                DocError::UpdateTooLarge { .. }
                | DocError::DocTooLarge { .. }
                | DocError::AwarenessTooLarge { .. },
            ) => ErrorCode::TooLarge,
            DocsError::Doc(_) => ErrorCode::Invalid,
            DocsError::Store(s) => s.code(),
            DocsError::NotFound => ErrorCode::NotFound,
            DocsError::Access(a) => a.code(),
            DocsError::Invalid(_) => ErrorCode::Invalid,
            DocsError::Forbidden(_) => ErrorCode::Forbidden,
        }
    }

    /// What a client may be told.
    fn public_message(&self) -> String {
        match self {
            DocsError::Store(s) => s.public_message(),
            DocsError::NotFound => "no such document".into(),
            DocsError::Access(a) => a.public_message(),
            other => other.to_string(),
        }
    }
}

/// What handling a frame did that its sender should hear about.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Document changes refused because the connection is read-only.
    pub refused: usize,
}

struct Conn {
    sink: Sink,
    can_write: bool,
    user: UserId,
}

struct Inner {
    session: DocSession,
    conns: HashMap<ConnKey, Conn>,
    /// Updates and bytes logged since the last compaction.
    logged: u64,
    logged_bytes: usize,
    /// An update applied here could not be logged: the whole state is logged at unload.
    unlogged: bool,
    /// Bumped on every attach, so an idle unload scheduled before it stands down.
    epoch: u64,
}

pub struct LoadedDoc {
    pub id: DocId,
    pub room: RoomId,
    inner: Mutex<Inner>,
    compacting: AtomicBool,
    /// Stops the task that hears the document's bus topic (at unload); that task then releases
    /// the topic.
    listener: Mutex<Option<oneshot::Sender<()>>>,
}

impl LoadedDoc {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops hearing the document's topic.
    fn stop_listening(&self) {
        // Dropping the sender ends the listener, which drops its receiver and then releases
        // the topic (in that order, so the bus sees nobody holding it).
        drop(
            self.listener
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
    }

    /// The whole document as one v1 update.
    pub fn state(&self) -> Vec<u8> {
        self.lock().session.state()
    }
}

/// Counters for health and tests.
#[derive(Debug, Default)]
pub struct DocStats {
    pub loads: AtomicU64,
    pub compactions: AtomicU64,
    /// Times a document's listener fell behind its topic and re-read the log.
    pub resyncs: AtomicU64,
}

pub struct Docs {
    store: Store,
    access: Access,
    /// The ventures' feeds, which hear of documents created.
    activity: Activity,
    bus: Arc<dyn Bus>,
    node: NodeId,
    pub config: DocsConfig,
    registry: Mutex<HashMap<DocId, Arc<OnceCell<Arc<LoadedDoc>>>>>,
    /// The log writes of every document here, group-committed.
    log: LogCommits,
    next_conn: AtomicU64,
    pub stats: DocStats,
    clock: SharedClock,
}

impl Docs {
    pub fn new(
        store: Store,
        bus: Arc<dyn Bus>,
        node: NodeId,
        config: DocsConfig,
        clock: SharedClock,
        activity: Activity,
    ) -> Arc<Docs> {
        Arc::new(Docs {
            clock,
            activity,
            log: log_commits(store.clone(), config.group_commit),
            access: Access::new(store.clone()),
            store,
            bus,
            node,
            config,
            registry: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            stats: DocStats::default(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, HashMap<DocId, Arc<OnceCell<Arc<LoadedDoc>>>>> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Documents loaded on this node.
    pub fn loaded(&self) -> usize {
        self.registry().values().filter(|c| c.initialized()).count()
    }

    /// The documents loaded here that `pred` selects (taken out of the registry's lock).
    fn loaded_where(&self, pred: impl Fn(&LoadedDoc) -> bool) -> Vec<Arc<LoadedDoc>> {
        self.registry()
            .values()
            .filter_map(|c| c.get().cloned())
            .filter(|d| pred(d))
            .collect()
    }

    /// The loaded document `id` of `room`, loading it from the store if needed (once, however
    /// many ask at the same time).
    pub async fn open(
        self: &Arc<Self>,
        id: &DocId,
        room: &RoomId,
    ) -> Result<Arc<LoadedDoc>, DocsError> {
        let cell = self.registry().entry(id.clone()).or_default().clone();
        let doc = cell
            .get_or_try_init(|| async {
                // The topic first, the log second: an update logged after this read is
                // published after this subscription, so one of the two brings it.
                let topic = Topic::doc(id);
                let rx = self.bus.subscribe(&topic).in_force().await;
                let read = async {
                    let stored = self.store.doc_load(id.as_str()).await?;
                    let logged = stored.updates.len() as u64;
                    let logged_bytes: usize = stored.updates.iter().map(Vec::len).sum();
                    let (doc, size) = DocSession::load(
                        stored.snapshot.as_deref(),
                        stored.updates.iter().map(Vec::as_slice),
                    )?;
                    Ok::<_, DocsError>((doc, size, logged, logged_bytes))
                };
                let (doc, size, logged, logged_bytes) = match read.await {
                    Ok(read) => read,
                    Err(e) => {
                        drop(rx);
                        self.bus.unsubscribe(&topic);
                        return Err(e);
                    }
                };
                self.stats.loads.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("hub_doc_loads_total").increment(1);
                let loaded = Arc::new(LoadedDoc {
                    id: id.clone(),
                    room: room.clone(),
                    inner: Mutex::new(Inner {
                        session: DocSession::new(doc, size, self.config.limits),
                        conns: HashMap::new(),
                        logged,
                        logged_bytes,
                        unlogged: false,
                        epoch: 0,
                    }),
                    compacting: AtomicBool::new(false),
                    listener: Mutex::new(None),
                });
                let (stop, stopped) = oneshot::channel();
                *loaded.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
                tokio::spawn(Docs::listen(
                    self.bus.clone(),
                    topic,
                    Arc::downgrade(self),
                    Arc::downgrade(&loaded),
                    rx,
                    stopped,
                ));
                Ok::<_, DocsError>(loaded)
            })
            .await?
            .clone();
        Ok(doc)
    }

    /// The document's listener fell behind its topic: what it missed is in the log, so the log
    /// is read again and whatever this node did not have is applied and relayed.
    async fn resync(&self, doc: &LoadedDoc) {
        self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("hub_doc_resyncs_total").increment(1);
        let stored = match self.store.doc_load(doc.id.as_str()).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(doc = %doc.id, error = %e, "cannot re-read a document's log");
                return;
            }
        };
        let mut others = Vec::new();
        {
            let mut inner = doc.lock();
            for update in stored.snapshot.iter().chain(&stored.updates) {
                match inner.session.apply(update) {
                    Ok(Some(diff)) => others.push(hub_rooms::doc::update_frame(&diff)),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(doc = %doc.id, error = %e, "a logged update was refused at resync")
                    }
                }
            }
        }
        if !others.is_empty() {
            self.relay(
                doc,
                None,
                &Outcome {
                    others,
                    ..Outcome::default()
                },
            );
        }
    }

    /// Adds a connection and sends it the greeting (sync step 1 and the awareness).
    pub fn attach(&self, doc: &LoadedDoc, sink: Sink, can_write: bool, user: &UserId) -> ConnKey {
        let key = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let mut inner = doc.lock();
        inner.epoch += 1;
        inner.session.bind_user(key, user.as_str());
        let mut failed = Vec::new();
        for frame in inner.session.greeting() {
            if !sink.send(&doc.id, Bytes::from(frame)) {
                failed.push(key);
            }
        }
        inner.conns.insert(
            key,
            Conn {
                sink,
                can_write,
                user: user.clone(),
            },
        );
        drop_failed(&doc.id, &mut inner, failed);
        key
    }

    /// Handles a frame from connection `conn`: replies, persists, relays.
    pub async fn receive(
        self: &Arc<Self>,
        doc: &Arc<LoadedDoc>,
        conn: ConnKey,
        frame: &[u8],
    ) -> Result<Received, DocsError> {
        self.receive_many(doc, conn, &[frame]).await
    }

    /// Handles frames that arrived together from connection `conn`, in order: their updates
    /// are merged into one, logged in one row and relayed as one frame (a busy editor's
    /// keystrokes cost the others one frame per read, not one per keystroke). A refused frame
    /// ends the batch; what the frames before it did is still logged and relayed, then the
    /// error is returned.
    pub async fn receive_many(
        self: &Arc<Self>,
        doc: &Arc<LoadedDoc>,
        conn: ConnKey,
        frames: &[impl AsRef<[u8]>],
    ) -> Result<Received, DocsError> {
        let now = self.clock.now();
        let (outcome, refused_frame) = {
            let mut inner = doc.lock();
            let Some(can_write) = inner.conns.get(&conn).map(|c| c.can_write) else {
                return Err(DocsError::NotFound);
            };
            inner
                .session
                .receive_many(conn, can_write, frames.iter().map(AsRef::as_ref), now)
        };
        if outcome.refused > 0 {
            metrics::counter!("hub_doc_refused_total").increment(outcome.refused as u64);
        }
        if outcome.throttled > 0 {
            metrics::counter!("hub_doc_awareness_throttled_total")
                .increment(outcome.throttled as u64);
        }
        self.persist(doc, &outcome.updates).await?;
        self.relay(doc, Some(conn), &outcome);
        for update in &outcome.updates {
            self.publish(doc, DocFrameKind::Update, update).await;
        }
        for frame in &outcome.everyone {
            self.publish(doc, DocFrameKind::Awareness, frame).await;
        }
        match refused_frame {
            Some(e) => Err(e.into()),
            None => Ok(Received {
                refused: outcome.refused,
            }),
        }
    }

    /// Applies an update from a server-side tool, like an edit from a connection.
    pub async fn apply_update(
        self: &Arc<Self>,
        doc: &Arc<LoadedDoc>,
        update: &[u8],
    ) -> Result<bool, DocsError> {
        let applied = doc.lock().session.apply(update)?;
        let Some(applied) = applied else {
            return Ok(false);
        };
        let outcome = Outcome {
            others: vec![hub_rooms::doc::update_frame(&applied)],
            updates: vec![applied],
            ..Outcome::default()
        };
        self.persist(doc, &outcome.updates).await?;
        self.relay(doc, None, &outcome);
        self.publish(doc, DocFrameKind::Update, &outcome.updates[0])
            .await;
        Ok(true)
    }

    async fn persist(
        self: &Arc<Self>,
        doc: &Arc<LoadedDoc>,
        updates: &[Vec<u8>],
    ) -> Result<(), DocsError> {
        if updates.is_empty() {
            return Ok(());
        }
        let logged = match self.log.submit((doc.id.clone(), updates.to_vec())).await {
            Ok(result) => result,
            // The writer is gone: as unavailable as the database.
            Err(_) => Err(StoreError::Db(sqlx::Error::PoolClosed)),
        };
        if let Err(e) = logged {
            doc.lock().unlogged = true;
            return Err(e.into());
        }
        let due = {
            let mut inner = doc.lock();
            inner.logged += updates.len() as u64;
            inner.logged_bytes += updates.iter().map(Vec::len).sum::<usize>();
            inner.logged >= self.config.compact_updates
                || inner.logged_bytes >= self.config.compact_bytes
        };
        if due {
            self.spawn_compaction(doc.clone());
        }
        Ok(())
    }

    fn relay(&self, doc: &LoadedDoc, from: Option<ConnKey>, outcome: &Outcome) {
        // Each frame is copied once; every connection gets a reference to it.
        let frames = |list: &[Vec<u8>]| -> Vec<Bytes> {
            list.iter().map(|f| Bytes::copy_from_slice(f)).collect()
        };
        let (everyone, reply, others) = (
            frames(&outcome.everyone),
            frames(&outcome.reply),
            frames(&outcome.others),
        );
        let mut inner = doc.lock();
        let mut failed = Vec::new();
        for (key, conn) in &inner.conns {
            let mine = if Some(*key) == from { &reply } else { &others };
            for frame in everyone.iter().chain(mine) {
                if !conn.sink.send(&doc.id, frame.clone()) {
                    failed.push(*key);
                    break;
                }
            }
        }
        drop_failed(&doc.id, &mut inner, failed);
    }

    /// Removes a connection; its awareness states go, and the document may unload later.
    pub fn detach(self: &Arc<Self>, doc: &Arc<LoadedDoc>, conn: ConnKey) {
        let (removal, now_idle, epoch) = {
            let mut inner = doc.lock();
            inner.conns.remove(&conn);
            let removal = inner.session.remove_conn(conn);
            (removal, inner.conns.is_empty(), inner.epoch)
        };
        if let Some(frame) = removal {
            let outcome = Outcome {
                others: vec![frame.clone()],
                ..Outcome::default()
            };
            self.relay(doc, None, &outcome);
            let this = self.clone();
            let doc2 = doc.clone();
            tokio::spawn(async move { this.publish(&doc2, DocFrameKind::Awareness, &frame).await });
        }
        if now_idle {
            let this = self.clone();
            let doc = doc.clone();
            tokio::spawn(async move {
                tokio::time::sleep(this.config.idle_unload).await;
                this.unload_if_idle(&doc, epoch).await;
            });
        }
    }
}

/// Closes and forgets connections whose queue overflowed.
fn drop_failed(doc: &DocId, inner: &mut Inner, failed: Vec<ConnKey>) {
    for key in failed {
        if let Some(conn) = inner.conns.remove(&key) {
            metrics::counter!("hub_doc_slow_connections_total").increment(1);
            tracing::warn!(
                %doc,
                conn = key,
                "document connection cannot keep up; closing it"
            );
            // Its awareness stays until the connection detaches (its reader ends, or its
            // socket disconnects), which relays the removal to everyone else.
            conn.sink.close(doc, CloseReason::TooSlow);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::LocalBus;
    use crate::bus::{BusMessage, DocFrame};
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, Transact};

    fn edit(client: u64, s: &str) -> Vec<u8> {
        let doc = yrs::Doc::with_client_id(client);
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        yrs::Text::insert(&text, &mut txn, 0, s);
        txn.encode_update_v1()
    }

    fn text_of(state: &[u8]) -> String {
        let doc = yrs::Doc::new();
        let text = doc.get_or_insert_text("t");
        let update = yrs::Update::decode_v1(state).unwrap();
        doc.transact_mut().apply_update(update).unwrap();
        text.get_string(&doc.transact())
    }

    async fn setup(capacity: usize) -> (Arc<Docs>, LocalBus, Store, DocId, RoomId) {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        store.migrate().await.unwrap();
        let ann = UserId::from("ann");
        store
            .upsert_user(&ann, "Ann", hub_protocol::AccountRole::User)
            .await
            .unwrap();
        let room = RoomId::from("venture:v1");
        let mut w = store.begin_write().await.unwrap();
        let row = store
            .create_doc(&mut w, room.as_str(), "Plan", &ann)
            .await
            .unwrap();
        w.commit().await.unwrap();
        let bus = LocalBus::with_capacity(capacity);
        let activity = crate::services::activity::Activity::new(
            store.clone(),
            crate::services::notify::Notify::new(Arc::new(bus.clone())),
        );
        let docs = Docs::new(
            store.clone(),
            Arc::new(bus.clone()),
            NodeId::from("node-a"),
            DocsConfig::default(),
            crate::clock::system(),
            activity,
        );
        (docs, bus, store, DocId::from(row.id), room)
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_node_holds_a_document_topic_while_the_document_is_loaded() {
        let (docs, bus, _store, id, room) = setup(64).await;
        assert!(bus.topics().is_empty());
        let doc = docs.open(&id, &room).await.unwrap();
        assert_eq!(bus.topics(), vec![Topic::doc(&id)]);
        drop(doc);
        docs.forget(&id);
        settle().await;
        assert!(
            bus.topics().is_empty(),
            "released at unload: {:?}",
            bus.topics()
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_listener_that_falls_behind_rereads_the_log() {
        let (docs, bus, store, id, room) = setup(4).await;
        let doc = docs.open(&id, &room).await.unwrap();
        // Another node logs ten edits, then publishes them faster than this node reads: its
        // listener (not polled in between, on this one-thread runtime) lags.
        let edits: Vec<Vec<u8>> = (0..10u64)
            .map(|i| edit(100 + i, &format!("<{i}>")))
            .collect();
        for e in &edits {
            store.doc_append(id.as_str(), e).await.unwrap();
        }
        for e in &edits {
            let frame = BusMessage::Doc(DocFrame {
                kind: DocFrameKind::Update,
                node: NodeId::from("node-b"),
                doc: id.clone(),
                room: room.clone(),
                frame: Bytes::copy_from_slice(e),
            });
            bus.publish(&Topic::doc(&id), frame.encode().unwrap())
                .await
                .unwrap();
        }
        let expected = {
            let reference = yrs::Doc::new();
            let mut txn = reference.transact_mut();
            for e in &edits {
                txn.apply_update(yrs::Update::decode_v1(e).unwrap())
                    .unwrap();
            }
            drop(txn);
            reference
                .get_or_insert_text("t")
                .get_string(&reference.transact())
        };
        assert_eq!(expected.len(), 30);
        // The re-read goes to the database: wait for it to land.
        for _ in 0..1000 {
            if text_of(&doc.state()) == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(text_of(&doc.state()), expected, "nothing lost to the lag");
        assert_eq!(docs.stats.resyncs.load(Ordering::Relaxed), 1);
    }
}
