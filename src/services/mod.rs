//! The hub's use cases, free of every transport: `http/`, `realtime/` (Socket.IO) and `yws`
//! (raw `/yjs`) call them; they call the store, the bus and the rules, and reach people live
//! only through [`notify`], whose connection side a transport implements.
//!
//! One service per domain, each a struct built in [`Services::new`] from the few handles it
//! needs (the store, the domain group commit, the services it calls):
//!
//! - [`access`]: who may see and do what (rooms, ventures, teams, documents);
//! - [`presence`], [`chat`], [`docs`]: the presence replica and typing; chat sends,
//!   group-committed and published in seq order; the loaded-document engine (its
//!   connections behind [`docs::DocSink`]) and each room's documents;
//! - [`notify`], [`notifications`], [`activity`]: deliveries on every node, stored
//!   notifications, the ventures' feeds;
//! - [`groups`], [`membership`], [`members`]: ventures and teams; membership changes under
//!   their rules and audit entries; what those changes tell people and do to live sockets;
//! - [`events`], [`xp`], [`badges`], [`gamification`], [`leaderboards`], [`profiles`]: events
//!   in, XP and levels, badges, reputation, leaderboards, profiles, skills, endorsements;
//! - [`wallets`], [`equity`]: BUZ issuance, ledgers, conversion windows and equity;
//! - [`files`], [`signatures`], [`clients`]: uploaded documents with their shares, comments
//!   and holds, signing keys and signatures, clients;
//! - [`audit`], [`auditlog`]: the audit chains' integrity, the Merkle log and its checkpoints;
//! - [`jobs`]: the periodic jobs' catalog and what each runs (the `jobs` scheduler starts them);
//! - [`server`]: the server API (publish to rooms and users, presence, disconnect, token
//!   revocation) and its API keys;
//! - [`webhooks`]: webhook endpoints, the outbox written in each change's transaction, and
//!   the delivery worker;
//! - [`dev`]: the development demo.
//!
//! What they share: [`writes`] (the domain group commit, whose writes are closures over their
//! transaction), [`effects`] and [`after_commit`] (what a transaction leaves to do once
//! committed), [`batch`] (group commit), [`turns`] (how much may wait for one user).

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
pub mod after_commit;
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
pub mod leaderboards;
pub mod members;
pub mod membership;
pub mod notifications;
pub mod notify;
pub mod presence;
pub mod profiles;
pub mod routes;
pub mod server;
pub mod signatures;
pub mod turns;
pub mod wallets;
pub mod webhooks;
pub mod writes;
pub mod xp;

/// Runs one request of a transport (an HTTP request, a socket event, a job's run): inside it, a
/// use case that holds a write transaction cannot read through the pool beside it (see
/// `store::WriteTx`).
pub use crate::store::one_request as request_scope;

use crate::bus::{Bus, BusMessage, Liveness, NodeChange, Notice};
use crate::clock::SharedClock;
use crate::store::{Blobs, Store};
use access::Access;
use activity::Activity;
use after_commit::AfterCommit;
use audit::Audit;
use auditlog::{AuditLog, AuditLogConfig};
use badges::Badges;
use chat::{Chat, ChatConfig};
use clients::Clients;
use dev::{Dev, DevUses};
use docs::{Docs, DocsConfig};
use equity::Equity;
use events::Events;
use files::{Files, FilesConfig};
use gamification::{Gamification, GamificationConfig};
use groups::Groups;
use hub_protocol::NodeId;
use hub_protocol::server::SessionClosed;
use jobs::{JobBoard, JobBodies, Jobs, JobsConfig};
use leaderboards::Leaderboards;
use members::Members;
use membership::Membership;
use notifications::Notifications;
use notify::{Notify, Sockets};
use presence::{Presence, PresenceConfig};
use profiles::Profiles;
use server::{Server, ServerConfig};
use signatures::Signatures;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;
use wallets::{BuzConfig, Wallets};
use webhooks::{Outbox, Webhooks, WebhooksConfig};
use writes::{Writes, WritesConfig};
use xp::Xp;

/// How often grace periods, typing, heartbeats and dead nodes are checked.
const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// The hub's services, one per domain, each built from the few it needs (the wiring is
/// [`Services::new`]); a transport calls the one its request is about.
pub struct Services {
    bus: Arc<dyn Bus>,
    store: Store,
    presence_config: PresenceConfig,
    /// The one source of time for every rule (see [`crate::clock`]).
    pub clock: SharedClock,
    /// Who may see and do what.
    pub access: Access,
    /// Room and user deliveries on every node.
    pub notify: Notify,
    /// Which nodes are alive.
    pub liveness: Arc<Liveness>,
    pub presence: Arc<Presence>,
    /// The room topics this node listens to (and a user's personal room's, per connection).
    pub routes: Arc<routes::Routes>,
    pub chat: Chat,
    /// The loaded-document engine, and the documents of each room.
    pub docs: Arc<Docs>,
    pub notifications: Notifications,
    pub groups: Groups,
    pub events: Events,
    pub gamification: Gamification,
    pub badges: Badges,
    pub profiles: Profiles,
    pub wallets: Wallets,
    pub equity: Equity,
    pub files: Files,
    pub signatures: Signatures,
    pub clients: Clients,
    /// The audit chains' integrity.
    pub audit: Arc<Audit>,
    /// The Merkle log and its checkpoints.
    pub auditlog: Arc<AuditLog>,
    pub jobs: Jobs,
    /// The development demo (its routes exist only in development).
    pub dev: Dev,
    /// The server API: publish, presence, disconnect, revoke, API keys.
    pub server: Server,
    /// Webhook endpoints, the outbox and its delivery worker.
    pub webhooks: Webhooks,
}

/// The services' settings; the default is a hub started without flags.
#[derive(Debug, Clone)]
pub struct ServicesConfig {
    pub chat: ChatConfig,
    pub presence: PresenceConfig,
    pub docs: DocsConfig,
    pub jobs: JobsConfig,
    pub gamification: GamificationConfig,
    pub buz: BuzConfig,
    pub files: FilesConfig,
    /// How long a role read for an action in a joined room is reused (see
    /// [`access::Access::member_recent`]).
    pub role_cache: std::time::Duration,
    /// The domain group commit (see [`writes`]).
    pub writes: WritesConfig,
    /// The Merkle log's key, origin and witnesses.
    pub audit_log: AuditLogConfig,
    /// The server API.
    pub server: ServerConfig,
    /// Webhook deliveries.
    pub webhooks: WebhooksConfig,
}

impl Default for ServicesConfig {
    fn default() -> ServicesConfig {
        ServicesConfig {
            chat: ChatConfig::default(),
            presence: PresenceConfig::default(),
            docs: DocsConfig::default(),
            jobs: JobsConfig::default(),
            gamification: GamificationConfig::default(),
            buz: BuzConfig::default(),
            files: FilesConfig::default(),
            role_cache: access::DEFAULT_ROLE_CACHE,
            writes: WritesConfig::default(),
            audit_log: AuditLogConfig::default(),
            server: ServerConfig::default(),
            webhooks: WebhooksConfig::default(),
        }
    }
}

impl Services {
    /// Builds every service of node `node` over `store`, `blobs` and `bus`.
    pub fn new(
        node: NodeId,
        bus: Arc<dyn Bus>,
        store: Store,
        blobs: Blobs,
        config: ServicesConfig,
        clock: SharedClock,
    ) -> Arc<Services> {
        let ServicesConfig {
            chat,
            presence,
            docs,
            jobs,
            gamification,
            buz,
            files,
            role_cache,
            writes,
            audit_log,
            server,
            webhooks,
        } = config;
        let outbox = Outbox::new(clock.clone());
        let access = Access::remembering(store.clone(), role_cache);
        let notify = Notify::new(bus.clone());
        let webhooks = Webhooks::new(
            store.clone(),
            notify.clone(),
            outbox.clone(),
            node.clone(),
            clock.clone(),
            webhooks,
        );
        let notifications = Notifications::new(store.clone(), notify.clone());
        let activity = Activity::new(store.clone(), notify.clone());
        let leaderboards = Leaderboards::new(
            store.clone(),
            notify.clone(),
            gamification.leaderboard_throttle,
        );
        let after = AfterCommit::new(
            store.clone(),
            notify.clone(),
            notifications.clone(),
            activity.clone(),
            leaderboards.clone(),
        );
        let lanes = writes.lanes.unwrap_or(match store.backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgres => writes::DEFAULT_POSTGRES_LANES,
        });
        let writes = Arc::new(Writes::new(
            store.clone(),
            after.clone(),
            lanes,
            writes.group_commit,
            writes.user_queue,
        ));
        let liveness = Arc::new(Liveness::new(
            node.clone(),
            presence.heartbeat,
            presence.dead_after,
            clock.clone(),
        ));
        let presence_config = presence.clone();
        let routes = routes::Routes::new(bus.clone(), presence.linger, clock.clone());
        let presence = Presence::new(
            node.clone(),
            bus.clone(),
            notify.clone(),
            routes.clone(),
            presence,
            liveness.clone(),
            clock.clone(),
        );
        let docs = Docs::new(
            store.clone(),
            bus.clone(),
            node.clone(),
            docs,
            clock.clone(),
            activity.clone(),
        );
        let server = Server::new(
            store.clone(),
            access.clone(),
            notify.clone(),
            presence.clone(),
            server,
            clock.clone(),
        );
        let chat = Chat::new(
            store.clone(),
            notify.clone(),
            presence.clone(),
            notifications.clone(),
            outbox.clone(),
            chat,
            clock.clone(),
        );
        let members = Members::new(
            access.clone(),
            presence.clone(),
            notify.clone(),
            notifications.clone(),
            activity.clone(),
        );
        let membership = Membership::new(store.clone(), outbox.clone());
        let groups = Groups::new(
            store.clone(),
            membership.clone(),
            access.clone(),
            activity,
            members,
        );
        let xp = Xp::new(store.clone(), notifications.clone(), outbox.clone());
        let badges = Badges::new(
            store.clone(),
            writes.clone(),
            xp.clone(),
            notifications.clone(),
            outbox.clone(),
        );
        let wallets = Wallets::new(
            store.clone(),
            writes.clone(),
            notifications.clone(),
            outbox.clone(),
            buz.clone(),
        );
        let events = Events::new(
            store.clone(),
            writes.clone(),
            xp.clone(),
            badges.clone(),
            wallets.clone(),
        );
        let equity = Equity::new(
            store.clone(),
            wallets.clone(),
            writes.clone(),
            access.clone(),
            badges.clone(),
            notifications.clone(),
            outbox.clone(),
            clock.clone(),
        );
        let profiles = Profiles::new(
            store.clone(),
            writes,
            xp,
            badges.clone(),
            notifications.clone(),
            clock.clone(),
        );
        let board = Arc::new(JobBoard::new(jobs));
        let gamification = Gamification::new(
            store.clone(),
            access.clone(),
            badges.clone(),
            leaderboards,
            after.clone(),
            board.clone(),
            clock.clone(),
        );
        let files = Files::new(
            store.clone(),
            access.clone(),
            blobs.clone(),
            notifications.clone(),
            after.clone(),
            outbox.clone(),
            clock.clone(),
            files,
        );
        let signatures = Signatures::new(
            store.clone(),
            blobs.clone(),
            files.clone(),
            notifications.clone(),
            after,
            outbox.clone(),
            clock.clone(),
        );
        let audit = Arc::new(Audit::new(
            store.clone(),
            wallets.clone(),
            notifications.clone(),
            clock.clone(),
        ));
        let auditlog = Arc::new(AuditLog::new(audit_log, store.clone(), blobs));
        let jobs = Jobs::new(
            board,
            store.clone(),
            node,
            clock.clone(),
            JobBodies {
                audit: audit.clone(),
                auditlog: auditlog.clone(),
                gamification: gamification.clone(),
                badges: badges.clone(),
                equity: equity.clone(),
                files: files.clone(),
            },
        );
        let dev = Dev::new(
            store.clone(),
            access.clone(),
            DevUses {
                groups: groups.clone(),
                membership,
                docs: docs.clone(),
                events: events.clone(),
            },
            buz,
        );
        Arc::new(Services {
            clients: Clients::new(store.clone()),
            bus,
            store,
            presence_config,
            clock,
            access,
            notify,
            liveness,
            routes,
            presence,
            chat,
            docs,
            notifications,
            groups,
            events,
            gamification,
            badges,
            profiles,
            wallets,
            equity,
            files,
            signatures,
            audit,
            auditlog,
            jobs,
            dev,
            server,
            webhooks,
        })
    }

    /// Starts this node's inbox reader and its timers in `tasks`, and says hello to the other
    /// nodes. One reader takes the inbox in arrival order (the control topic and the rooms this
    /// node follows): deliveries to `sockets`, presence deltas and node events (documents have
    /// a topic each, taken by the document engine).
    pub fn start(self: &Arc<Self>, sockets: Arc<dyn Sockets>, tasks: &mut JoinSet<()>) {
        self.notify.attach(&sockets);
        let inbox = self.bus.inbox();
        let mut rx = inbox.rx;
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
        let (this, ready) = (self.clone(), inbox.ready);
        tokio::spawn(async move {
            ready.await;
            this.liveness.hello(this.bus.as_ref()).await
        });
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
                    Notice::Leave { user, rooms, .. } | Notice::Access { user, rooms, .. } => {
                        self.access.forget(user, rooms)
                    }
                    // A revocation is in force before the sockets hear of it.
                    Notice::Close {
                        user,
                        revoked_before: Some(before),
                        ..
                    } => self.server.revoked(user, *before),
                    Notice::Webhooks => {
                        if let Err(e) = self.webhooks.reload().await {
                            tracing::warn!(error = %e, "cannot read the webhook endpoints");
                        }
                    }
                    Notice::Deliver { .. } | Notice::Close { .. } => {}
                }
                deliver_notice(sockets, &self.docs, notice)
            }
            BusMessage::Presence(delta) => self.presence.receive(delta).await,
            BusMessage::Node(event) => {
                if let Some(change) = self.liveness.receive(&event) {
                    self.presence.node_changed(change).await;
                }
            }
            BusMessage::Doc(frame) => tracing::warn!(
                doc = %frame.doc,
                "a document frame in the inbox; documents have their own topics"
            ),
        }
    }

    /// Events were lost (`missed` of them, when known): presence tells its connections in
    /// every room it follows and asks the others for theirs; chat clients repair by seq
    /// themselves.
    async fn lost_events(&self, missed: Option<u64>) {
        metrics::counter!("hub_bus_lagged_total").increment(missed.unwrap_or(1));
        tracing::error!(
            ?missed,
            "lost bus events; resyncing presence (clients repair chat by seq)"
        );
        self.presence.resend_all(true).await;
        // A revocation or an endpoint change may have been among the lost: read them again.
        if let Err(e) = self.server.load_revocations().await {
            tracing::error!(error = %e, "cannot read token revocations after a bus gap");
        }
        if let Err(e) = self.webhooks.reload().await {
            tracing::error!(error = %e, "cannot read the webhook endpoints after a bus gap");
        }
    }

    /// Tells the other nodes this one is stopping (they drop its connections at once), and
    /// returns once what it published has left.
    pub async fn stop(&self) {
        self.liveness.bye(self.bus.as_ref()).await;
        self.bus.flush().await;
    }
}

/// Applies one notice from the bus on this node: its documents first, then its sockets.
fn deliver_notice(sockets: &dyn Sockets, docs: &Docs, notice: Notice) {
    match notice {
        Notice::Deliver {
            room,
            event,
            data,
            except_user,
            except_sid,
        } => sockets.deliver(
            &room,
            &event,
            &data,
            except_user.as_ref(),
            except_sid.as_ref(),
        ),
        Notice::Leave {
            user,
            rooms,
            reason,
        } => {
            docs.remove_user(&user, &rooms);
            sockets.leave(&user, &rooms, &reason);
        }
        Notice::Access { user, rooms, role } => {
            // Documents first: once the user hears of the change, it is already in force.
            for room in &rooms {
                docs.set_can_write(&user, room, role.can_edit());
            }
            sockets.role_changed(&user, &rooms, role);
        }
        Notice::Webhooks => {}
        Notice::Close {
            user, code, reason, ..
        } => {
            docs.close_user(&user);
            sockets.close(&user, &SessionClosed { code, reason });
        }
    }
}
