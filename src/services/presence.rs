//! Presence and typing across nodes.
//!
//! Every node keeps a full replica of presence ([`PresenceRegistry`]) and typing. A change made
//! on this node (a socket joins, leaves, sets its status) is applied here at once (so acks see
//! it) and goes over the bus as a delta that every other node applies. Presence changes are
//! announced by one node, the live node with the smallest id, from its replica: whatever the
//! order in which deltas from several nodes cross, each join and leave is announced once.
//! Typing is announced by the typist's node.
//!
//! Node liveness is kept next to the bus ([`Liveness`]): when a node stops or falls silent, its
//! connections are dropped from every replica and the survivor with the smallest id announces
//! the leaves, so a crash leaves no ghosts. When a node says hello (it started, or lost bus
//! traffic), every other node sends it a snapshot of its connections.
//!
//! Locks are std mutexes held only for in-memory work, never across `.await`.

use super::notify::{Except, Notify};
use crate::auth::Identity;
use crate::bus::{
    Bus, BusMessage, Liveness, NodeChange, PresenceConn as SnapshotConn, PresenceDelta as Delta,
    Topic, publish,
};
use crate::clock::SharedClock;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{PresenceChanged, PresenceEntry, PresenceLeft, PresenceStatus, Typing};
use hub_protocol::{NodeId, RoomId, SocketId, UserId};
use hub_rooms::presence::{Change, ConnId, PresenceRegistry};
use hub_rooms::typing::TypingTracker;
use serde_json::Value;
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
}

impl PresenceConfig {
    /// The defaults (the flags of [`PresenceArgs`] start from them).
    pub const DEFAULT: PresenceConfig = PresenceConfig {
        grace: Duration::from_secs(5),
        typing_ttl: hub_rooms::typing::DEFAULT_TTL,
        heartbeat: Duration::from_secs(2),
        dead_after: Duration::from_secs(6),
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
        })
    }
}

/// An announcement to make to a room once the locks are released.
enum Announce {
    Presence(String, Change),
    Typing(String, UserId, bool),
}

pub struct Presence {
    node: NodeId,
    bus: Arc<dyn Bus>,
    notify: Notify,
    registry: Mutex<PresenceRegistry>,
    /// Typists connected to this node: this node expires and announces them.
    local_typing: Mutex<TypingTracker>,
    /// Typists on other nodes: replicas, expired silently.
    remote_typing: Mutex<TypingTracker>,
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
        config: PresenceConfig,
        liveness: Arc<Liveness>,
        clock: SharedClock,
    ) -> Arc<Presence> {
        Arc::new(Presence {
            node,
            bus,
            notify,
            registry: Mutex::new(PresenceRegistry::new(config.grace)),
            local_typing: Mutex::new(TypingTracker::new(config.typing_ttl)),
            remote_typing: Mutex::new(TypingTracker::new(config.typing_ttl)),
            liveness,
            clock,
        })
    }

    fn conn(&self, sid: &SocketId) -> ConnId {
        ConnId::new(self.node.as_str(), sid.as_str())
    }

    /// A socket of `who` entered `room`.
    pub async fn join(&self, room: &RoomId, sid: &SocketId, who: &Identity) {
        let since = crate::clock::rfc3339(self.clock.now_ms());
        let change = lock(&self.registry).add(
            room.as_str(),
            self.conn(sid),
            &who.user_id,
            &who.name,
            &since,
        );
        self.publish(Delta::Add {
            node: self.node.clone(),
            room: room.clone(),
            sid: sid.clone(),
            user: who.user_id.clone(),
            name: who.name.clone(),
            since,
        })
        .await;
        self.announce_presence(change.map(|c| (room.to_string(), c)))
            .await;
    }

    /// A socket of `user` left `room` (or disconnected). The user's leave follows after the
    /// grace if this was their last connection there.
    pub async fn leave(&self, room: &RoomId, sid: &SocketId, user: &UserId) {
        let change = lock(&self.registry).remove(room.as_str(), &self.conn(sid), self.clock.now());
        self.publish(Delta::Remove {
            node: self.node.clone(),
            room: room.clone(),
            sid: sid.clone(),
        })
        .await;
        self.announce_presence(change.map(|c| (room.to_string(), c)))
            .await;
        self.typing_stop(room, user).await;
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
        let change = lock(&self.registry).remove_user(room.as_str(), user);
        self.publish(Delta::Kick {
            node: self.node.clone(),
            room: room.clone(),
            user: user.clone(),
        })
        .await;
        self.announce_presence(change.map(|c| (room.to_string(), c)))
            .await;
        let was_typing = lock(&self.local_typing).stop(room.as_str(), user)
            | lock(&self.remote_typing).stop(room.as_str(), user);
        if was_typing {
            self.announce(vec![Announce::Typing(
                room.to_string(),
                user.clone(),
                false,
            )])
            .await;
        }
    }

    /// `user`'s status in all their rooms.
    pub async fn set_status(&self, user: &UserId, status: PresenceStatus, meta: Value) {
        let changes = lock(&self.registry).set_status(user, status, meta.clone());
        self.publish(Delta::Status {
            node: self.node.clone(),
            user: user.clone(),
            status,
            meta,
        })
        .await;
        self.announce_presence(changes).await;
    }

    /// Whether this node announces presence changes: the live node with the smallest id. Every
    /// node applies every delta, so the announcer's replica has every change, and each change
    /// is announced once, whichever node saw it and in whatever order deltas crossed.
    fn is_announcer(&self) -> bool {
        self.liveness.is_lowest()
    }

    /// Announces presence changes if this node is the announcer.
    async fn announce_presence(&self, changes: impl IntoIterator<Item = (String, Change)>) {
        if !self.is_announcer() {
            return;
        }
        let items = changes
            .into_iter()
            .map(|(room, c)| Announce::Presence(room, c))
            .collect();
        self.announce(items).await;
    }

    pub async fn typing_start(&self, room: &RoomId, user: &UserId) {
        if lock(&self.local_typing).start(room.as_str(), user, self.clock.now()) {
            self.publish(Delta::TypingStart {
                node: self.node.clone(),
                room: room.clone(),
                user: user.clone(),
            })
            .await;
            self.announce(vec![Announce::Typing(room.to_string(), user.clone(), true)])
                .await;
        }
    }

    pub async fn typing_stop(&self, room: &RoomId, user: &UserId) {
        if lock(&self.local_typing).stop(room.as_str(), user) {
            self.publish(Delta::TypingStop {
                node: self.node.clone(),
                room: room.clone(),
                user: user.clone(),
            })
            .await;
            self.announce(vec![Announce::Typing(
                room.to_string(),
                user.clone(),
                false,
            )])
            .await;
        }
    }

    /// How many users are in `room` and how many connections they have there, on every node.
    pub fn count(&self, room: &RoomId) -> (u64, u64) {
        lock(&self.registry).count(room.as_str())
    }

    /// Who is in `room` and who is typing there.
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

    async fn announce(&self, items: Vec<Announce>) {
        for item in items {
            match item {
                Announce::Presence(room, Change::Joined(user)) => {
                    let except = Except {
                        user: Some(&user.user_id),
                        sid: None,
                    };
                    let payload = PresenceChanged {
                        room: RoomId::from(room.as_str()),
                        user: user.clone(),
                    };
                    self.notify
                        .to_room(
                            &RoomId::from(room.as_str()),
                            server::PresenceJoinEvent,
                            &payload,
                            except,
                        )
                        .await;
                }
                Announce::Presence(room, Change::Updated(user)) => {
                    let payload = PresenceChanged {
                        room: RoomId::from(room.as_str()),
                        user,
                    };
                    self.notify
                        .to_room(
                            &RoomId::from(room.as_str()),
                            server::PresenceUpdateEvent,
                            &payload,
                            Except::default(),
                        )
                        .await;
                }
                Announce::Presence(room, Change::Left(user_id)) => {
                    let payload = PresenceLeft {
                        room: RoomId::from(room.as_str()),
                        user_id,
                    };
                    self.notify
                        .to_room(
                            &RoomId::from(room.as_str()),
                            server::PresenceLeaveEvent,
                            &payload,
                            Except::default(),
                        )
                        .await;
                }
                Announce::Typing(room, user_id, typing) => {
                    let except = Except {
                        user: Some(&user_id),
                        sid: None,
                    };
                    let payload = Typing {
                        room: RoomId::from(room.as_str()),
                        user_id: user_id.clone(),
                        typing,
                    };
                    self.notify
                        .to_room(
                            &RoomId::from(room.as_str()),
                            server::TypingEvent,
                            &payload,
                            except,
                        )
                        .await;
                }
            }
        }
    }

    async fn publish(&self, delta: Delta) {
        publish(
            self.bus.as_ref(),
            &Topic::events(),
            &BusMessage::Presence(delta),
        )
        .await;
    }

    /// Applies a delta from the bus.
    pub(super) async fn receive(&self, delta: Delta) {
        self.apply_remote(delta).await;
    }

    /// A node arrived or left (see [`Liveness`]): a newcomer gets this node's connections; a
    /// departed node's connections are dropped.
    pub(super) async fn node_changed(&self, change: NodeChange) {
        match change {
            NodeChange::Hello(node) => self.send_snapshot(Some(node)).await,
            NodeChange::Gone(node) => self.drop_node(&node).await,
        }
    }

    /// This node's connections, to `to` (or to every node).
    pub(super) async fn send_snapshot(&self, to: Option<NodeId>) {
        let conns = {
            let registry = lock(&self.registry);
            registry
                .conns_of_node(self.node.as_str())
                .into_iter()
                .map(|(room, user, name, since, conn)| SnapshotConn {
                    status: registry.status_of(&user),
                    room: room.into(),
                    sid: conn.sid.into(),
                    user,
                    name,
                    since,
                })
                .collect()
        };
        self.publish(Delta::Snapshot {
            node: self.node.clone(),
            to,
            conns,
        })
        .await;
    }

    /// Applies a delta from another node. Presence changes it causes are announced here if this
    /// node is the announcer; typing is announced by the typist's node.
    async fn apply_remote(&self, delta: Delta) {
        if delta.node() == &self.node {
            return;
        }
        self.liveness.seen(delta.node());
        let changes: Vec<(String, Change)> = match delta {
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
                change.map(|c| (room.0, c)).into_iter().collect()
            }
            Delta::Remove { node, room, sid } => {
                let change = lock(&self.registry).remove(
                    room.as_str(),
                    &ConnId::new(node.0, sid.0),
                    self.clock.now(),
                );
                change.map(|c| (room.0, c)).into_iter().collect()
            }
            Delta::Kick { room, user, .. } => {
                lock(&self.remote_typing).stop(room.as_str(), &user);
                let change = lock(&self.registry).remove_user(room.as_str(), &user);
                change.map(|c| (room.0, c)).into_iter().collect()
            }
            Delta::Status {
                user, status, meta, ..
            } => lock(&self.registry).set_status(&user, status, meta),
            Delta::TypingStart { room, user, .. } => {
                lock(&self.remote_typing).start(room.as_str(), &user, self.clock.now());
                Vec::new()
            }
            Delta::TypingStop { room, user, .. } => {
                lock(&self.remote_typing).stop(room.as_str(), &user);
                Vec::new()
            }
            Delta::Snapshot { node, to, conns } => {
                // A sync, not news: nothing is announced. Snapshots add to the replica (a
                // connection already held changes nothing), so one computed before a delta
                // and published after it cannot undo that delta's join.
                if to.is_none_or(|to| to == self.node) {
                    let mut registry = lock(&self.registry);
                    for c in conns {
                        registry.add(
                            c.room.as_str(),
                            ConnId::new(node.as_str(), c.sid.0),
                            &c.user,
                            &c.name,
                            &c.since,
                        );
                        if let Some((status, meta)) = c.status {
                            registry.set_status(&c.user, status, meta);
                        }
                    }
                }
                Vec::new()
            }
        };
        self.announce_presence(changes).await;
    }

    /// Drops a stopped or dead node's connections; the announcer announces the leaves.
    /// Idempotent: a second call for the same node finds nothing.
    async fn drop_node(&self, node: &NodeId) {
        let gone = lock(&self.registry).remove_node(node.as_str());
        self.announce_presence(
            gone.into_iter()
                .map(|(room, user)| (room, Change::Left(user))),
        )
        .await;
    }

    /// One pass of timers: due leaves, expired typists.
    pub(super) async fn tick(&self) {
        let t = self.clock.now();
        let due = lock(&self.registry).expire(t);
        self.announce_presence(due.into_iter().map(|d| (d.room, Change::Left(d.user))))
            .await;
        let mut announce = Vec::new();
        let expired = lock(&self.local_typing).expire(t);
        lock(&self.remote_typing).expire(t);
        for (room, user) in expired {
            announce.push(Announce::Typing(room.clone(), user.clone(), false));
            self.publish(Delta::TypingStop {
                node: self.node.clone(),
                room: room.into(),
                user,
            })
            .await;
        }
        self.announce(announce).await;
    }
}
