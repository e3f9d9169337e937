//! Presence and typing across nodes, routed by interest.
//!
//! A node keeps a replica of presence ([`PresenceRegistry`]) and typing for the rooms it
//! follows: those where it holds a connection (and, for a short linger, those it held one in or
//! was asked about over REST), see [`Routes`]. A change made on this node (a socket joins,
//! leaves, sets its status, types) is applied here at once (so acks see it) and goes as a delta
//! on the room's topic, which only the nodes following the room hear. Every node announces to
//! its own sockets what its replica says changed: presence and typing announcements never cross
//! the bus.
//!
//! Following a room starts with a catch-up: the node listens to the room's topic, asks the bus
//! how many nodes hear it, and sends a [`Delta::Snapshot`] with `ask`; every node following the
//! room answers with a snapshot of its own connections there, on the same topic (so it comes
//! in order with that node's deltas). The first join (or REST read) waits until every node
//! counted has answered, at most `sync_timeout`, so it sees the whole room. A snapshot replaces
//! what a replica held of its node in its room, so it also repairs what was lost: after a bus
//! gap a node asks again in every room it follows.
//!
//! Node liveness is kept next to the bus ([`Liveness`]): when a node stops or falls silent, its
//! connections are dropped from every replica and every node announces the leaves to its own
//! sockets, so a crash leaves no ghosts. A node taken for dead that speaks again is asked to
//! send its snapshots again.
//!
//! Locks are std mutexes held only for in-memory work, never across `.await`.

use super::notify::{Except, Notify};
use super::routes::Routes;
use crate::auth::Identity;
use crate::bus::{
    Bus, BusMessage, Liveness, NodeChange, PresenceConn as SnapshotConn, PresenceDelta as Delta,
    Topic, publish,
};
use crate::clock::SharedClock;
use futures_util::FutureExt;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{PresenceChanged, PresenceEntry, PresenceLeft, PresenceStatus, Typing};
use hub_protocol::{NodeId, RoomId, SocketId, UserId};
use hub_rooms::presence::{Change, ConnId, PresenceRegistry, SnapshotConn as RoomConn};
use hub_rooms::typing::TypingTracker;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Presence timings.
#[derive(Debug, Clone)]
pub struct PresenceConfig {
    /// How long a user stays after their last connection closed (hides a page reload).
    pub grace: Duration,
    /// How long a typing indicator lasts without a refresh.
    pub typing_ttl: Duration,
    /// How often a node says it is alive.
    pub heartbeat: Duration,
    /// Silence after which a node is taken for dead and its connections dropped.
    pub dead_after: Duration,
    /// How long a node still follows a room after its last connection there left.
    pub linger: Duration,
    /// How long the first join of a room on a node waits for the room's other nodes to tell
    /// who is there.
    pub sync_timeout: Duration,
}

impl PresenceConfig {
    /// The defaults (the flags of [`PresenceArgs`] start from them).
    pub const DEFAULT: PresenceConfig = PresenceConfig {
        grace: Duration::from_secs(5),
        typing_ttl: hub_rooms::typing::DEFAULT_TTL,
        heartbeat: Duration::from_secs(2),
        dead_after: Duration::from_secs(6),
        linger: super::routes::DEFAULT_LINGER,
        sync_timeout: Duration::from_secs(1),
    };
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Presence flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PresenceArgs {
    /// How long a user stays present after their last connection closed (hides a reload).
    #[arg(long, env = "HUB_PRESENCE_GRACE", default_value_t = PresenceConfig::DEFAULT.grace.into())]
    pub presence_grace: humantime::Duration,
    /// How long a typing indicator lasts without a refresh.
    #[arg(long, env = "HUB_TYPING_TTL", default_value_t = PresenceConfig::DEFAULT.typing_ttl.into())]
    pub typing_ttl: humantime::Duration,
    /// How often a node tells the others it is alive (a cluster's heartbeat).
    #[arg(long, env = "HUB_HEARTBEAT", default_value_t = PresenceConfig::DEFAULT.heartbeat.into())]
    pub heartbeat: humantime::Duration,
    /// Silence after which the other nodes take a node for dead and drop its connections.
    #[arg(long, env = "HUB_NODE_TIMEOUT", default_value_t = PresenceConfig::DEFAULT.dead_after.into())]
    pub node_timeout: humantime::Duration,
    /// How long a node still follows a room (hears its topic, keeps its presence) after its
    /// last connection there left, so a reload does not subscribe again.
    #[arg(long, env = "HUB_ROOM_LINGER", default_value_t = PresenceConfig::DEFAULT.linger.into())]
    pub room_linger: humantime::Duration,
    /// How long the first join of a room on a node waits for the room's other nodes to say
    /// who is there.
    #[arg(long, env = "HUB_ROOM_SYNC_TIMEOUT", default_value_t = PresenceConfig::DEFAULT.sync_timeout.into())]
    pub room_sync_timeout: humantime::Duration,
}

impl PresenceArgs {
    pub fn resolve(&self) -> anyhow::Result<PresenceConfig> {
        let (heartbeat, dead_after) = (*self.heartbeat, *self.node_timeout);
        if heartbeat.is_zero() || dead_after <= heartbeat {
            anyhow::bail!(
                "HUB_NODE_TIMEOUT must be longer than HUB_HEARTBEAT, and HUB_HEARTBEAT longer than zero"
            );
        }
        Ok(PresenceConfig {
            grace: *self.presence_grace,
            typing_ttl: *self.typing_ttl,
            heartbeat,
            dead_after,
            linger: *self.room_linger,
            sync_timeout: *self.room_sync_timeout,
        })
    }
}

/// An announcement to make to this node's sockets once the locks are released.
enum Announce {
    Presence(RoomId, Change),
    Typing(RoomId, UserId, bool),
}

/// A catch-up waiting for the room's other nodes.
struct Pending {
    expect: usize,
    heard: HashSet<NodeId>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

pub struct Presence {
    node: NodeId,
    bus: Arc<dyn Bus>,
    notify: Notify,
    routes: Arc<Routes>,
    sync_timeout: Duration,
    registry: Mutex<PresenceRegistry>,
    /// Typists connected to this node: this node expires them.
    local_typing: Mutex<TypingTracker>,
    /// Typists on other nodes: replicas, expired silently.
    remote_typing: Mutex<TypingTracker>,
    /// Catch-ups in progress, by room.
    pending: Mutex<HashMap<RoomId, Pending>>,
    /// Which nodes are alive (heartbeats, hellos, goodbyes).
    liveness: Arc<Liveness>,
    clock: SharedClock,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Presence {
    pub fn new(
        node: NodeId,
        bus: Arc<dyn Bus>,
        notify: Notify,
        routes: Arc<Routes>,
        config: PresenceConfig,
        liveness: Arc<Liveness>,
        clock: SharedClock,
    ) -> Arc<Presence> {
        Arc::new(Presence {
            node,
            bus,
            notify,
            routes,
            sync_timeout: config.sync_timeout,
            registry: Mutex::new(PresenceRegistry::new(config.grace)),
            local_typing: Mutex::new(TypingTracker::new(config.typing_ttl)),
            remote_typing: Mutex::new(TypingTracker::new(config.typing_ttl)),
            pending: Mutex::default(),
            liveness,
            clock,
        })
    }

    fn conn(&self, sid: &SocketId) -> ConnId {
        ConnId::new(self.node.as_str(), sid.as_str())
    }

    /// Follows `room` (one more hold): returns once this node's replica of it is complete.
    pub async fn follow(self: &Arc<Self>, room: &RoomId) {
        let this = self.clone();
        let id = room.clone();
        self.routes
            .hold(&Topic::room(room), move || {
                async move { this.catch_up(id).await }.boxed()
            })
            .await;
    }

    /// Gives up one hold of `room` (the room lingers, then is forgotten).
    pub fn unfollow(&self, room: &RoomId) {
        self.routes.release(&Topic::room(room));
    }

    /// Asks the room's other nodes for their connections there and waits for every one the bus
    /// counts, at most `sync_timeout`.
    async fn catch_up(self: Arc<Self>, room: RoomId) {
        let others = self
            .bus
            .listeners(&Topic::room(&room))
            .await
            .map_or(0, |n| n.saturating_sub(1));
        let done = (others > 0).then(|| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            lock(&self.pending).insert(
                room.clone(),
                Pending {
                    expect: others,
                    heard: HashSet::new(),
                    done: Some(tx),
                },
            );
            rx
        });
        self.send_snapshot(&room, true).await;
        if let Some(done) = done {
            if tokio::time::timeout(self.sync_timeout, done).await.is_err() {
                metrics::counter!("hub_presence_sync_timeouts_total").increment(1);
                tracing::debug!(%room, others, "not every node answered a presence catch-up in time");
            }
            lock(&self.pending).remove(&room);
        }
    }

    /// This node's connections and typists in `room`, to every node following it; with `ask`,
    /// they answer with theirs.
    async fn send_snapshot(&self, room: &RoomId, ask: bool) {
        let conns = {
            let registry = lock(&self.registry);
            registry
                .snapshot_of(room.as_str(), self.node.as_str())
                .into_iter()
                .map(|c| SnapshotConn {
                    status: registry.status_of(&c.user),
                    sid: c.sid.into(),
                    user: c.user,
                    name: c.name,
                    since: c.since,
                })
                .collect()
        };
        let typing = lock(&self.local_typing).typing_in(room.as_str());
        self.publish(
            room,
            Delta::Snapshot {
                node: self.node.clone(),
                room: room.clone(),
                conns,
                typing,
                ask,
            },
        )
        .await;
    }

    /// Stops following rooms no one held for the linger, and forgets them.
    pub(super) fn sweep(&self) {
        self.routes.sweep(|topic| {
            if let Some(room) = topic.room_id() {
                lock(&self.registry).forget_room(room.as_str());
                lock(&self.remote_typing).forget_room(room.as_str());
            }
        });
    }

    /// A socket of `who` enters `room`: once this node follows the room (and knows who is
    /// there), `enter` puts the socket in it, then its presence is added and announced. A
    /// socket already in the room changes nothing.
    pub async fn join(
        self: &Arc<Self>,
        room: &RoomId,
        sid: &SocketId,
        who: &Identity,
        enter: impl FnOnce(),
    ) {
        let inside = |registry: &PresenceRegistry| {
            registry
                .rooms_of(&who.user_id, &self.conn(sid))
                .iter()
                .any(|r| r == room.as_str())
        };
        if inside(&lock(&self.registry)) {
            enter();
            return;
        }
        self.follow(room).await;
        enter();
        let since = crate::clock::rfc3339(self.clock.now_ms());
        let change = {
            let mut registry = lock(&self.registry);
            if inside(&registry) {
                // Another join of the same socket got here first: one hold is enough.
                drop(registry);
                self.unfollow(room);
                return;
            }
            registry.add(
                room.as_str(),
                self.conn(sid),
                &who.user_id,
                &who.name,
                &since,
            )
        };
        self.publish(
            room,
            Delta::Add {
                node: self.node.clone(),
                room: room.clone(),
                sid: sid.clone(),
                user: who.user_id.clone(),
                name: who.name.clone(),
                since,
            },
        )
        .await;
        self.announce_presence(change.map(|c| (room.clone(), c)));
    }

    /// A socket of `user` left `room` (or disconnected). The user's leave follows after the
    /// grace if this was their last connection there.
    pub async fn leave(&self, room: &RoomId, sid: &SocketId, user: &UserId) {
        let (was_there, change) = {
            let mut registry = lock(&self.registry);
            let was_there = registry
                .rooms_of(user, &self.conn(sid))
                .iter()
                .any(|r| r == room.as_str());
            (
                was_there,
                registry.remove(room.as_str(), &self.conn(sid), self.clock.now()),
            )
        };
        if !was_there {
            return;
        }
        self.publish(
            room,
            Delta::Remove {
                node: self.node.clone(),
                room: room.clone(),
                sid: sid.clone(),
            },
        )
        .await;
        self.announce_presence(change.map(|c| (room.clone(), c)));
        self.typing_stop(room, user).await;
        self.unfollow(room);
    }

    /// A socket disconnected: it leaves every room it was in.
    pub async fn disconnect(&self, sid: &SocketId, user: &UserId) {
        let rooms = lock(&self.registry).rooms_of(user, &self.conn(sid));
        for room in rooms {
            self.leave(&RoomId::from(room), sid, user).await;
        }
    }

    /// `user` lost access to `room`: gone at once, from every node.
    pub async fn kick(&self, room: &RoomId, user: &UserId) {
        self.publish(
            room,
            Delta::Kick {
                node: self.node.clone(),
                room: room.clone(),
                user: user.clone(),
            },
        )
        .await;
        self.remove_user(room, user);
    }

    /// Removes `user` from `room` in this replica (a kick), announcing it here and letting go
    /// of this node's connections of theirs there.
    fn remove_user(&self, room: &RoomId, user: &UserId) {
        let (mine, change) = {
            let mut registry = lock(&self.registry);
            let mine = registry.conns_of(room.as_str(), user, self.node.as_str());
            (mine, registry.remove_user(room.as_str(), user))
        };
        let was_typing = lock(&self.local_typing).stop(room.as_str(), user)
            | lock(&self.remote_typing).stop(room.as_str(), user);
        let mut items: Vec<Announce> = change
            .map(|c| Announce::Presence(room.clone(), c))
            .into_iter()
            .collect();
        if was_typing {
            items.push(Announce::Typing(room.clone(), user.clone(), false));
        }
        self.announce(items);
        for _ in 0..mine {
            self.unfollow(room);
        }
    }

    /// `user`'s status in all their rooms: on their own topic (the nodes holding their other
    /// connections pass it on to their rooms) and on the topics of the rooms where this node
    /// holds their connections.
    pub async fn set_status(&self, user: &UserId, status: PresenceStatus, meta: Value) {
        let changes = lock(&self.registry).set_status(user, status, meta.clone());
        self.announce_presence(changes.clone().into_iter().map(|(r, c)| (r.into(), c)));
        let status_delta = |room: Option<RoomId>| Delta::Status {
            node: self.node.clone(),
            user: user.clone(),
            status,
            meta: meta.clone(),
            room,
        };
        let user_room = Notify::user_room(user);
        self.publish(&user_room, status_delta(None)).await;
        for room in self.rooms_with_mine(user) {
            self.publish(&room, status_delta(Some(room.clone()))).await;
        }
    }

    /// The rooms where this node holds connections of `user`.
    fn rooms_with_mine(&self, user: &UserId) -> Vec<RoomId> {
        lock(&self.registry)
            .rooms_of_user_on(user, self.node.as_str())
            .into_iter()
            .map(RoomId::from)
            .collect()
    }

    /// Announces presence changes to this node's sockets.
    fn announce_presence(&self, changes: impl IntoIterator<Item = (RoomId, Change)>) {
        let items = changes
            .into_iter()
            .map(|(room, c)| Announce::Presence(room, c))
            .collect();
        self.announce(items);
    }

    pub async fn typing_start(&self, room: &RoomId, user: &UserId) {
        if lock(&self.local_typing).start(room.as_str(), user, self.clock.now()) {
            self.publish(
                room,
                Delta::TypingStart {
                    node: self.node.clone(),
                    room: room.clone(),
                    user: user.clone(),
                },
            )
            .await;
            self.announce(vec![Announce::Typing(room.clone(), user.clone(), true)]);
        }
    }

    pub async fn typing_stop(&self, room: &RoomId, user: &UserId) {
        if lock(&self.local_typing).stop(room.as_str(), user) {
            self.publish(
                room,
                Delta::TypingStop {
                    node: self.node.clone(),
                    room: room.clone(),
                    user: user.clone(),
                },
            )
            .await;
            self.announce(vec![Announce::Typing(room.clone(), user.clone(), false)]);
        }
    }

    /// Runs `read` while this node follows every room of `rooms` (and catches up on those it did
    /// not follow), so that what it reads of them is the whole cluster's; the rooms linger
    /// after.
    pub async fn reading<T>(
        self: &Arc<Self>,
        rooms: &[RoomId],
        read: impl FnOnce(&Self) -> T,
    ) -> T {
        futures_util::future::join_all(rooms.iter().map(|r| self.follow(r))).await;
        let out = read(self);
        for room in rooms {
            self.unfollow(room);
        }
        out
    }

    /// How many users are in `room` and how many connections they have there, as this node's
    /// replica has it (see [`Presence::reading`]).
    pub fn count(&self, room: &RoomId) -> (u64, u64) {
        lock(&self.registry).count(room.as_str())
    }

    /// Who is in `room` and who is typing there, as this node's replica has it (complete for a
    /// room this node follows).
    pub fn snapshot(&self, room: &RoomId) -> (Vec<PresenceEntry>, Vec<UserId>) {
        let room = room.as_str();
        let present = lock(&self.registry).present(room);
        let mut typing = lock(&self.local_typing).typing_in(room);
        for u in lock(&self.remote_typing).typing_in(room) {
            if !typing.contains(&u) {
                typing.push(u);
            }
        }
        (present, typing)
    }

    fn announce(&self, items: Vec<Announce>) {
        for item in items {
            match item {
                Announce::Presence(room, Change::Joined(user)) => {
                    let except = Except {
                        user: Some(&user.user_id),
                        sid: None,
                    };
                    let payload = PresenceChanged {
                        room: room.clone(),
                        user: user.clone(),
                    };
                    self.notify
                        .here(&room, server::PresenceJoinEvent, &payload, except);
                }
                Announce::Presence(room, Change::Updated(user)) => {
                    let payload = PresenceChanged {
                        room: room.clone(),
                        user,
                    };
                    self.notify.here(
                        &room,
                        server::PresenceUpdateEvent,
                        &payload,
                        Except::default(),
                    );
                }
                Announce::Presence(room, Change::Left(user_id)) => {
                    let payload = PresenceLeft {
                        room: room.clone(),
                        user_id,
                    };
                    self.notify.here(
                        &room,
                        server::PresenceLeaveEvent,
                        &payload,
                        Except::default(),
                    );
                }
                Announce::Typing(room, user_id, typing) => {
                    let except = Except {
                        user: Some(&user_id),
                        sid: None,
                    };
                    let payload = Typing {
                        room: room.clone(),
                        user_id: user_id.clone(),
                        typing,
                    };
                    self.notify
                        .here(&room, server::TypingEvent, &payload, except);
                }
            }
        }
    }

    async fn publish(&self, room: &RoomId, delta: Delta) {
        publish(
            self.bus.as_ref(),
            &Topic::room(room),
            &BusMessage::Presence(delta),
        )
        .await;
    }

    /// Applies a delta from the bus.
    pub(super) async fn receive(&self, delta: Delta) {
        if delta.node() == &self.node {
            return;
        }
        if let Some(NodeChange::Back(node)) = self.liveness.seen(delta.node()) {
            self.liveness.resync(self.bus.as_ref(), &node).await;
        }
        match delta {
            Delta::Add {
                node,
                room,
                sid,
                user,
                name,
                since,
            } => {
                let change = lock(&self.registry).add(
                    room.as_str(),
                    ConnId::new(node.0, sid.0),
                    &user,
                    &name,
                    &since,
                );
                self.announce_presence(change.map(|c| (room, c)));
            }
            Delta::Remove { node, room, sid } => {
                let change = lock(&self.registry).remove(
                    room.as_str(),
                    &ConnId::new(node.0, sid.0),
                    self.clock.now(),
                );
                self.announce_presence(change.map(|c| (room, c)));
            }
            Delta::Kick { room, user, .. } => self.remove_user(&room, &user),
            Delta::Status {
                user,
                status,
                meta,
                room,
                ..
            } => {
                let changes = lock(&self.registry).set_status(&user, status, meta.clone());
                self.announce_presence(changes.into_iter().map(|(r, c)| (r.into(), c)));
                if room.is_none() {
                    // Heard on the user's topic: pass it on to the rooms where this node holds
                    // their connections.
                    for room in self.rooms_with_mine(&user) {
                        let relay = Delta::Status {
                            node: self.node.clone(),
                            user: user.clone(),
                            status,
                            meta: meta.clone(),
                            room: Some(room.clone()),
                        };
                        self.publish(&room, relay).await;
                    }
                }
            }
            Delta::TypingStart { room, user, .. } => {
                if lock(&self.remote_typing).start(room.as_str(), &user, self.clock.now()) {
                    self.announce(vec![Announce::Typing(room, user, true)]);
                }
            }
            Delta::TypingStop { room, user, .. } => {
                // Announced even if this replica already let the typist expire: the typist's
                // node refreshes them without telling the others, and its stop is the truth.
                lock(&self.remote_typing).stop(room.as_str(), &user);
                self.announce(vec![Announce::Typing(room, user, false)]);
            }
            Delta::Snapshot {
                node,
                room,
                conns,
                typing,
                ask,
            } => self.apply_snapshot(node, room, conns, typing, ask).await,
        }
    }

    /// Replaces what this replica holds of `node` in `room` with its account, and answers with
    /// this node's own if asked.
    async fn apply_snapshot(
        &self,
        node: NodeId,
        room: RoomId,
        conns: Vec<SnapshotConn>,
        typing: Vec<UserId>,
        ask: bool,
    ) {
        let changes = {
            let mut registry = lock(&self.registry);
            let statuses: Vec<(UserId, PresenceStatus, Value)> = conns
                .iter()
                .filter_map(|c| c.status.clone().map(|(s, m)| (c.user.clone(), s, m)))
                .collect();
            let accounted = conns
                .into_iter()
                .map(|c| RoomConn {
                    sid: c.sid.0,
                    user: c.user,
                    name: c.name,
                    since: c.since,
                })
                .collect();
            let mut changes: Vec<(RoomId, Change)> = registry
                .replace_node_in_room(room.as_str(), node.as_str(), accounted)
                .into_iter()
                .map(|c| (room.clone(), c))
                .collect();
            for (user, status, meta) in statuses {
                changes.extend(
                    registry
                        .set_status(&user, status, meta)
                        .into_iter()
                        .map(|(r, c)| (RoomId::from(r), c)),
                );
            }
            changes
        };
        let mut started = Vec::new();
        {
            let mut remote = lock(&self.remote_typing);
            for user in typing {
                if remote.start(room.as_str(), &user, self.clock.now()) {
                    started.push(Announce::Typing(room.clone(), user, true));
                }
            }
        }
        self.announce_presence(changes);
        self.announce(started);
        {
            let mut pending = lock(&self.pending);
            if let Some(p) = pending.get_mut(&room) {
                p.heard.insert(node);
                if p.heard.len() >= p.expect
                    && let Some(done) = p.done.take()
                {
                    let _ = done.send(());
                }
            }
        }
        if ask {
            self.send_snapshot(&room, false).await;
        }
    }

    /// A node arrived or left (see [`Liveness`]).
    pub(super) async fn node_changed(&self, change: NodeChange) {
        match change {
            // A new node holds nothing yet: it catches up room by room as it follows them.
            NodeChange::Hello(_) => {}
            NodeChange::Back(node) => self.liveness.resync(self.bus.as_ref(), &node).await,
            NodeChange::Resync(_) => self.resend_all(false).await,
            NodeChange::Gone(node) => self.drop_node(&node),
        }
    }

    /// Sends this node's snapshot in every room it follows; with `ask`, the others answer
    /// (after a bus gap: what was lost is repaired both ways).
    pub(super) async fn resend_all(&self, ask: bool) {
        let rooms = lock(&self.registry).rooms();
        for room in rooms {
            let room = RoomId::from(room);
            if self.routes.is_held(&Topic::room(&room)) {
                self.send_snapshot(&room, ask).await;
            }
        }
    }

    /// Drops a stopped or dead node's connections and announces the leaves here. Idempotent: a
    /// second call for the same node finds nothing.
    fn drop_node(&self, node: &NodeId) {
        let gone = lock(&self.registry).remove_node(node.as_str());
        self.announce_presence(
            gone.into_iter()
                .map(|(room, user)| (RoomId::from(room), Change::Left(user))),
        );
    }

    /// One pass of timers: due leaves, expired typists, rooms no longer followed.
    pub(super) async fn tick(&self) {
        let t = self.clock.now();
        let due = lock(&self.registry).expire(t);
        self.announce_presence(
            due.into_iter()
                .map(|d| (RoomId::from(d.room), Change::Left(d.user))),
        );
        let mut announce = Vec::new();
        let expired = lock(&self.local_typing).expire(t);
        lock(&self.remote_typing).expire(t);
        for (room, user) in expired {
            let room = RoomId::from(room);
            announce.push(Announce::Typing(room.clone(), user.clone(), false));
            self.publish(
                &room,
                Delta::TypingStop {
                    node: self.node.clone(),
                    room: room.clone(),
                    user,
                },
            )
            .await;
        }
        self.announce(announce);
        self.sweep();
    }
}
