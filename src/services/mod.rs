//! The hub's use cases, free of every transport: `http/`, `realtime/` (Socket.IO) and `yws`
//! (raw `/yjs`) call them; they call the store, the bus and the rules, and reach people live
//! only through [`notify`], whose connection side a transport implements.
//!
//! - [`access`]: who may see and do what (rooms, ventures, teams, documents);
//! - [`audit`]: the WORM audit log's integrity check and repair;
//! - [`jobs`]: the periodic jobs' catalog, runs and state (the `jobs` scheduler starts them);
//! - [`docs`]: the loaded-document engine (its connections behind [`docs::DocSink`]);
//! - [`presence`]: the presence replica and typing;
//! - [`notify`]: room and user deliveries, and membership changes, on every node;
//! - [`chat`]: validate, rate-limit, order, commit, publish;
//! - [`events`]: events in, applied in the transaction that stores them;
//! - [`effects`]: what a transaction leaves to do once committed (live notifications, the
//!   feed, leaderboards);
//! - [`gamification`], [`badges`], [`profiles`]: XP, levels, reputation, leaderboards, badges,
//!   profiles, skills, endorsements, portfolios;
//! - [`wallets`], [`equity`]: BUZ issuance, ledgers, conversion windows and equity;
//! - [`files`], [`clients`], [`signatures`]: uploaded documents with their shares, comments
//!   and holds, clients, signing keys and signatures;
//! - [`activity`], [`notifications`], [`members`]: the venture feed, stored notifications,
//!   what membership changes tell people;
//! - [`Services`]: the handles, chat limits and per-room send order.

/// The conversions every domain error of the services takes: a database error is its `Store`
/// variant; with `access`, an access refusal is its `NotFound` or `Forbidden`.
macro_rules! domain_error {
    ($t:ident) => {
        impl From<sqlx::Error> for $t {
            fn from(e: sqlx::Error) -> Self {
                $t::Store(e.into())
            }
        }
    };
    ($t:ident, access) => {
        domain_error!($t);
        impl From<$crate::services::access::AccessError> for $t {
            fn from(e: $crate::services::access::AccessError) -> Self {
                use $crate::services::access::AccessError;
                match e {
                    AccessError::NotFound(what) => $t::NotFound(format!("no such {what}")),
                    AccessError::Forbidden(m) => $t::Forbidden(m),
                    AccessError::Store(s) => $t::Store(s),
                }
            }
        }
    };
}

pub mod access;
pub mod activity;
pub mod audit;
pub mod auditlog;
pub mod badges;
pub mod batch;
pub mod chat;
pub mod clients;
pub mod dev;
pub mod docs;
pub mod effects;
pub mod equity;
pub mod events;
pub mod files;
pub mod gamification;
pub mod groups;
pub mod jobs;
pub mod members;
pub mod notifications;
pub mod notify;
pub mod presence;
pub mod profiles;
pub mod signatures;
pub mod turns;
pub mod wallets;
pub mod writes;

/// Runs one request of a transport (an HTTP request, a socket event, a job's run): inside it, a
/// use case that holds a write transaction cannot read through the pool beside it (see
/// `store::WriteTx`).
pub use crate::store::one_request as request_scope;

use crate::bus::{Bus, BusMessage, Liveness, NodeChange, Topic};
use crate::clock::SharedClock;
use crate::store::Store;
use docs::{Docs, DocsConfig};
use hub_protocol::{NodeId, Role, RoomId, UserId};
use hub_rooms::RoomName;
use hub_rooms::chat::RateLimiter;
use notify::{Notify, Sockets};
use presence::{Presence, PresenceConfig};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

/// Chat limits.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub max_body_chars: usize,
    /// Messages per second a user may send, sustained.
    pub rate_per_second: f64,
    /// Messages a user may send at once.
    pub burst: u32,
    /// Most sends stored in one transaction (a group commit).
    pub group_commit: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            max_body_chars: hub_rooms::chat::DEFAULT_MAX_BODY_CHARS,
            rate_per_second: 10.0,
            burst: 30,
            group_commit: 256,
        }
    }
}

/// A user's roles in some rooms, read before a membership change (see
/// [`Services::watch_roles`]).
pub struct RoleWatch {
    user: UserId,
    before: Vec<(RoomName, Option<Role>)>,
}

/// How often grace periods, typing, heartbeats and dead nodes are checked.
const TICK: std::time::Duration = std::time::Duration::from_millis(100);

pub struct Services {
    bus: Arc<dyn Bus>,
    store: Store,
    pub access: access::Access,
    pub docs: Arc<Docs>,
    pub notify: Notify,
    pub presence: Arc<Presence>,
    /// Which nodes are alive.
    pub liveness: Arc<Liveness>,
    presence_config: PresenceConfig,
    pub chat: ChatConfig,
    /// The one source of time for every rule (see [`crate::clock`]).
    pub clock: SharedClock,
    /// The last audit integrity check found a break.
    worm_broken: std::sync::atomic::AtomicBool,
    /// The periodic jobs' catalog and state.
    pub jobs: jobs::JobBoard,
    limiter: Mutex<RateLimiter>,
    pub gamification: gamification::GamificationConfig,
    /// BUZ issuance gates.
    pub buz: wallets::BuzConfig,
    pub files_config: files::FilesConfig,
    /// Where uploaded files' contents live (and the audit log's checkpoints).
    pub blobs: crate::store::Blobs,
    /// The Merkle log's signer (see [`auditlog`]).
    pub auditlog: auditlog::AuditLog,
    boards: gamification::Boards,
    /// This value's own handle, for the tasks it spawns.
    me: std::sync::Weak<Services>,
    /// Chat sends, group-committed and published in seq order.
    chat_commits: chat::ChatCommits,
    /// How many writes may wait for one user (see [`turns`]).
    pub turns: Arc<turns::Turns>,
    /// The domain group commit (see [`writes`]).
    writes: writes::Writes,
}

/// The services' settings.
#[derive(Debug, Clone, Default)]
pub struct ServicesConfig {
    pub chat: ChatConfig,
    pub presence: PresenceConfig,
    pub docs: DocsConfig,
    pub jobs: jobs::JobsConfig,
    pub gamification: gamification::GamificationConfig,
    pub buz: wallets::BuzConfig,
    pub files: files::FilesConfig,
    /// How long a role read for an action in a joined room is reused (see
    /// [`access::Access::member_recent`]).
    pub role_cache: std::time::Duration,
    /// Requests that may wait for one user's turn (see [`turns`]).
    pub user_queue: usize,
    /// The domain group commit (see [`writes`]).
    pub writes: writes::WritesConfig,
    /// The Merkle log's key, origin and witnesses.
    pub audit_log: auditlog::AuditLogConfig,
}

impl Services {
    pub fn new(
        node: NodeId,
        bus: Arc<dyn Bus>,
        store: Store,
        blobs: crate::store::Blobs,
        config: ServicesConfig,
        clock: SharedClock,
    ) -> Arc<Services> {
        let ServicesConfig {
            chat,
            presence,
            docs,
            jobs: jobs_config,
            gamification,
            buz,
            files: files_config,
            role_cache,
            user_queue,
            writes: writes_config,
            audit_log,
        } = config;
        let notify = Notify::new(bus.clone());
        let docs = Docs::new(
            store.clone(),
            bus.clone(),
            node.clone(),
            docs,
            clock.clone(),
        );
        let liveness = Arc::new(Liveness::new(
            node.clone(),
            presence.heartbeat,
            presence.dead_after,
            clock.clone(),
        ));
        let presence_config = presence.clone();
        let presence = Presence::new(
            node,
            bus.clone(),
            notify.clone(),
            presence,
            liveness.clone(),
            clock.clone(),
        );
        let chat_commits = chat::chat_commits(store.clone(), notify.clone(), chat.group_commit);
        let lanes = writes_config.lanes.unwrap_or(match store.backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgres => writes::DEFAULT_POSTGRES_LANES,
        });
        Arc::new_cyclic(|me| Services {
            writes: writes::Writes::new(me.clone(), lanes, writes_config.group_commit),
            me: me.clone(),
            turns: turns::Turns::new(user_queue),
            chat_commits,
            gamification,
            buz,
            files_config,
            blobs,
            auditlog: auditlog::AuditLog::new(audit_log),
            boards: Default::default(),
            liveness,
            presence_config,
            clock,
            worm_broken: std::sync::atomic::AtomicBool::new(false),
            jobs: jobs::JobBoard::new(jobs_config),
            access: access::Access::remembering(store.clone(), role_cache),
            bus,
            store,
            docs,
            limiter: Mutex::new(RateLimiter::new(chat.rate_per_second, chat.burst)),
            notify,
            presence,
            chat,
        })
    }

    /// Starts this node's events subscriber and its timers in `tasks`, and says hello to the
    /// other nodes. One subscriber reads the events topic in publish order: deliveries to
    /// `sockets`, presence deltas and node events (documents have a topic each, taken by the
    /// document engine).
    pub fn start(self: &Arc<Self>, sockets: Arc<dyn Sockets>, tasks: &mut JoinSet<()>) {
        let events = self.bus.subscribe(&Topic::events());
        let mut rx = events.rx;
        let this = self.clone();
        tasks.spawn(async move {
            loop {
                match rx.recv().await {
                    // The bus's gap marker: it may have lost messages (see `crate::bus`).
                    Ok(payload) if payload.is_empty() => this.lost_events(None).await,
                    Ok(payload) => match BusMessage::decode(&payload) {
                        Ok(message) => this.receive(sockets.as_ref(), message).await,
                        Err(e) => tracing::warn!(error = %e, "dropping a bus message"),
                    },
                    Err(RecvError::Lagged(n)) => this.lost_events(Some(n)).await,
                    Err(RecvError::Closed) => return,
                }
            }
        });
        let this = self.clone();
        tasks.spawn(async move {
            let period = TICK.min(this.presence_config.heartbeat);
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                this.presence.tick().await;
                this.liveness.beat(this.bus.as_ref()).await;
                for node in this.liveness.expire() {
                    tracing::warn!(%node, "node stopped sending heartbeats; dropping its connections");
                    this.presence.node_changed(NodeChange::Gone(node)).await;
                }
            }
        });
        // Hello once the others' answers can reach this node.
        let (this, ready) = (self.clone(), events.ready);
        tokio::spawn(async move {
            ready.await;
            this.liveness.hello(this.bus.as_ref()).await
        });
    }

    /// A handle on these services, for a task to keep (`None` once they are dropped).
    pub fn me(&self) -> Option<Arc<Services>> {
        self.me.upgrade()
    }

    /// Whether the database answers within `timeout`: `Err` with a short reason a health check
    /// may show (the cause itself is logged).
    pub async fn database_health(&self, timeout: std::time::Duration) -> Result<(), &'static str> {
        match tokio::time::timeout(timeout, self.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "health: database check failed");
                Err(match e {
                    sqlx::Error::PoolTimedOut => "connection pool timed out",
                    sqlx::Error::PoolClosed => "connection pool closed",
                    sqlx::Error::Io(_) => "connection failed",
                    _ => "query failed",
                })
            }
            Err(_) => Err("timed out"),
        }
    }

    /// The storage backend's name (`sqlite` or `postgres`).
    pub fn storage_backend(&self) -> &'static str {
        self.store.backend().as_str()
    }

    /// The state of the link to the other nodes (see [`Bus::health`]).
    pub async fn bus_health(&self) -> Option<Result<(), String>> {
        self.bus.health().await
    }

    async fn receive(&self, sockets: &dyn Sockets, message: BusMessage) {
        metrics::counter!("hub_bus_messages_in_total", "kind" => message.kind()).increment(1);
        match message {
            BusMessage::Notify(notice) => {
                // Remembered roles first: once the user hears of the change, it is in force.
                match &notice {
                    crate::bus::Notice::Leave { user, rooms, .. }
                    | crate::bus::Notice::Access { user, rooms, .. } => {
                        self.access.forget(user, rooms)
                    }
                    crate::bus::Notice::Deliver { .. } => {}
                }
                notify::receive(sockets, &self.docs, notice)
            }
            BusMessage::Presence(delta) => self.presence.receive(delta).await,
            BusMessage::Node(event) => {
                if let Some(change) = self.liveness.receive(&event) {
                    self.presence.node_changed(change).await;
                }
            }
            BusMessage::Doc(frame) => tracing::warn!(
                doc = %frame.doc,
                "a document frame on the events topic; documents have their own"
            ),
        }
    }

    /// Events were lost (`missed` of them, when known): presence asks every node for its
    /// connections again; chat clients repair by seq themselves.
    async fn lost_events(&self, missed: Option<u64>) {
        metrics::counter!("hub_bus_lagged_total").increment(missed.unwrap_or(1));
        tracing::error!(
            ?missed,
            "lost bus events; resyncing presence (clients repair chat by seq)"
        );
        // Hello asks every node for its connections; this node's own go to every node, since
        // a node that came back earlier may have said hello while this one could not hear it.
        self.liveness.hello(self.bus.as_ref()).await;
        self.presence.send_snapshot(None).await;
    }

    /// Tells the other nodes this one is stopping: they drop its connections at once.
    pub async fn stop(&self) {
        self.liveness.bye(self.bus.as_ref()).await;
    }

    /// Takes one send from `user`'s allowance.
    pub fn allow_send(&self, user: &UserId) -> bool {
        let now = self.clock.now();
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allow(user, now)
    }

    /// Gives back the token of a send that turned out to be a retry.
    pub fn refund_send(&self, user: &UserId) {
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refund(user);
    }

    /// Reads `user`'s roles in `rooms` before a membership change; [`Services::follow_roles`]
    /// then makes their live connections follow what changed.
    pub async fn watch_roles(
        &self,
        user: &UserId,
        rooms: Vec<RoomName>,
    ) -> Result<RoleWatch, access::AccessError> {
        let mut before = Vec::with_capacity(rooms.len());
        for room in rooms {
            let role = self.access.room_role(user, &room).await?;
            before.push((room, role));
        }
        Ok(RoleWatch {
            user: user.clone(),
            before,
        })
    }

    /// After a membership change: the user's live connections, on every node, follow what
    /// changed (documents turn read-only or writable and `room:role` tells them; a room they
    /// lost is left with `room:removed` and `lost_reason`); rooms whose role did not change are
    /// left alone.
    pub async fn follow_roles(
        &self,
        watch: RoleWatch,
        lost_reason: &str,
    ) -> Result<(), access::AccessError> {
        let mut lost = Vec::new();
        let mut changed: Vec<(Role, Vec<RoomId>)> = Vec::new();
        for (room, was) in watch.before {
            let now = self.access.room_role(&watch.user, &room).await?;
            match (was, now) {
                (Some(_), None) => lost.push(room.id()),
                (was, Some(role)) if was != Some(role) => {
                    match changed.iter_mut().find(|(r, _)| *r == role) {
                        Some((_, rooms)) => rooms.push(room.id()),
                        None => changed.push((role, vec![room.id()])),
                    }
                }
                _ => {}
            }
        }
        if !lost.is_empty() {
            self.remove_user_from_rooms(&watch.user, lost, lost_reason)
                .await;
        }
        for (role, rooms) in changed {
            self.notify.set_role(&watch.user, rooms, role).await;
        }
        Ok(())
    }

    /// `user` lost access to `rooms`: their sockets leave them on every node, their presence
    /// goes, and they are told with `room:removed`.
    pub async fn remove_user_from_rooms(&self, user: &UserId, rooms: Vec<RoomId>, reason: &str) {
        for room in &rooms {
            self.presence.kick(room, user).await;
        }
        self.notify.remove_from_rooms(user, rooms, reason).await;
    }
}
