//! Presence and typing across nodes.
//!
//! Every node keeps a full replica of presence ([`PresenceRegistry`]) and typing. A change made
//! on this node (a socket joins, leaves, sets its status, types) is applied here at once, and
//! announced to the room by this node only; the delta then goes over the bus and the other
//! nodes apply it silently. So each change is announced exactly once, by the node that saw it.
//!
//! Nodes send heartbeats. A node silent for longer than `DEAD_AFTER` is dead: its connections
//! are dropped from every replica and the survivor with the smallest id announces the leaves,
//! so a crash leaves no ghosts. A node that starts asks the others for their connections.
//!
//! Locks are std mutexes held only for in-memory work, never across `.await`.

use super::fanout::{Except, Fanout};
use crate::auth::Identity;
use crate::bus::{Bus, TOPIC_PRESENCE};
use bytes::Bytes;
use hub_protocol::UserId;
use hub_protocol::realtime::server;
use hub_protocol::rooms::{PresenceChanged, PresenceEntry, PresenceLeft, PresenceStatus, Typing};
use hub_rooms::presence::{Change, ConnId, PresenceRegistry};
use hub_rooms::typing::TypingTracker;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Silence after which a node is taken for dead.
pub const DEAD_AFTER: Duration = Duration::from_secs(6);
/// How often grace periods, typing and heartbeats are checked.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Delta {
    Add {
        node: String,
        room: String,
        sid: String,
        user: UserId,
        name: String,
        since: String,
    },
    Remove {
        node: String,
        room: String,
        sid: String,
    },
    Kick {
        node: String,
        room: String,
        user: UserId,
    },
    Status {
        node: String,
        user: UserId,
        status: PresenceStatus,
        meta: Value,
    },
    TypingStart {
        node: String,
        room: String,
        user: UserId,
    },
    TypingStop {
        node: String,
        room: String,
        user: UserId,
    },
    Heartbeat {
        node: String,
    },
    /// A node started: the others answer with a snapshot of their connections.
    Hello {
        node: String,
    },
    Snapshot {
        node: String,
        to: String,
        conns: Vec<SnapshotConn>,
    },
    /// A node stops: the others drop its connections.
    Bye {
        node: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SnapshotConn {
    room: String,
    sid: String,
    user: UserId,
    name: String,
    since: String,
    status: Option<(PresenceStatus, Value)>,
}

impl Delta {
    fn node(&self) -> &str {
        match self {
            Delta::Add { node, .. }
            | Delta::Remove { node, .. }
            | Delta::Kick { node, .. }
            | Delta::Status { node, .. }
            | Delta::TypingStart { node, .. }
            | Delta::TypingStop { node, .. }
            | Delta::Heartbeat { node }
            | Delta::Hello { node }
            | Delta::Snapshot { node, .. }
            | Delta::Bye { node } => node,
        }
    }
}

/// An announcement to make to a room once the locks are released.
enum Announce {
    Presence(String, Change),
    Typing(String, UserId, bool),
}

pub struct Presence {
    node: String,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    registry: Mutex<PresenceRegistry>,
    /// Typists connected to this node: this node expires and announces them.
    local_typing: Mutex<TypingTracker>,
    /// Typists on other nodes: replicas, expired silently.
    remote_typing: Mutex<TypingTracker>,
    /// Last heartbeat of every other node.
    nodes: Mutex<HashMap<String, Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Presence {
    pub fn new(
        node: String,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        grace: Duration,
        typing_ttl: Duration,
    ) -> Arc<Presence> {
        Arc::new(Presence {
            node,
            bus,
            fanout,
            registry: Mutex::new(PresenceRegistry::new(grace)),
            local_typing: Mutex::new(TypingTracker::new(typing_ttl)),
            remote_typing: Mutex::new(TypingTracker::new(typing_ttl)),
            nodes: Mutex::new(HashMap::new()),
        })
    }

    pub fn conn(&self, sid: &str) -> ConnId {
        ConnId::new(self.node.clone(), sid)
    }

    /// A socket of `who` entered `room`.
    pub async fn join(&self, room: &str, sid: &str, who: &Identity) {
        let since = crate::store::rfc3339(crate::store::now_ms());
        let change =
            lock(&self.registry).add(room, self.conn(sid), &who.user_id, &who.name, &since);
        if let Some(change) = change {
            self.announce(vec![Announce::Presence(room.to_owned(), change)])
                .await;
        }
        self.publish(Delta::Add {
            node: self.node.clone(),
            room: room.to_owned(),
            sid: sid.to_owned(),
            user: who.user_id.clone(),
            name: who.name.clone(),
            since,
        })
        .await;
    }

    /// A socket of `user` left `room` (or disconnected). The user's leave follows after the
    /// grace if this was their last connection there.
    pub async fn leave(&self, room: &str, sid: &str, user: &UserId) {
        let mut announce = Vec::new();
        if let Some(change) = lock(&self.registry).remove(room, &self.conn(sid), now()) {
            announce.push(Announce::Presence(room.to_owned(), change));
        }
        if lock(&self.local_typing).stop(room, user) {
            announce.push(Announce::Typing(room.to_owned(), user.clone(), false));
            self.publish(Delta::TypingStop {
                node: self.node.clone(),
                room: room.to_owned(),
                user: user.clone(),
            })
            .await;
        }
        self.announce(announce).await;
        self.publish(Delta::Remove {
            node: self.node.clone(),
            room: room.to_owned(),
            sid: sid.to_owned(),
        })
        .await;
    }

    /// A socket disconnected: it leaves every room it was in.
    pub async fn disconnect(&self, sid: &str, user: &UserId) {
        let rooms = lock(&self.registry).rooms_of(&self.conn(sid));
        for room in rooms {
            self.leave(&room, sid, user).await;
        }
    }

    /// `user` lost access to `room`: gone at once, from every node.
    pub async fn kick(&self, room: &str, user: &UserId) {
        let mut announce = Vec::new();
        if let Some(change) = lock(&self.registry).remove_user(room, user) {
            announce.push(Announce::Presence(room.to_owned(), change));
        }
        if lock(&self.local_typing).stop(room, user) | lock(&self.remote_typing).stop(room, user) {
            announce.push(Announce::Typing(room.to_owned(), user.clone(), false));
        }
        self.announce(announce).await;
        self.publish(Delta::Kick {
            node: self.node.clone(),
            room: room.to_owned(),
            user: user.clone(),
        })
        .await;
    }

    /// `user`'s status in all their rooms.
    pub async fn set_status(&self, user: &UserId, status: PresenceStatus, meta: Value) {
        let changes = lock(&self.registry).set_status(user, status, meta.clone());
        self.announce(
            changes
                .into_iter()
                .map(|(room, c)| Announce::Presence(room, c))
                .collect(),
        )
        .await;
        self.publish(Delta::Status {
            node: self.node.clone(),
            user: user.clone(),
            status,
            meta,
        })
        .await;
    }

    pub async fn typing_start(&self, room: &str, user: &UserId) {
        if lock(&self.local_typing).start(room, user, now()) {
            self.announce(vec![Announce::Typing(room.to_owned(), user.clone(), true)])
                .await;
            self.publish(Delta::TypingStart {
                node: self.node.clone(),
                room: room.to_owned(),
                user: user.clone(),
            })
            .await;
        }
    }

    pub async fn typing_stop(&self, room: &str, user: &UserId) {
        if lock(&self.local_typing).stop(room, user) {
            self.announce(vec![Announce::Typing(room.to_owned(), user.clone(), false)])
                .await;
            self.publish(Delta::TypingStop {
                node: self.node.clone(),
                room: room.to_owned(),
                user: user.clone(),
            })
            .await;
        }
    }

    /// Who is in `room` and who is typing there.
    pub fn snapshot(&self, room: &str) -> (Vec<PresenceEntry>, Vec<UserId>) {
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
                        room: room.clone(),
                        user: user.clone(),
                    };
                    self.fanout
                        .to_room(&room, server::PRESENCE_JOIN, &payload, except)
                        .await;
                }
                Announce::Presence(room, Change::Updated(user)) => {
                    let payload = PresenceChanged {
                        room: room.clone(),
                        user,
                    };
                    self.fanout
                        .to_room(&room, server::PRESENCE_UPDATE, &payload, Except::default())
                        .await;
                }
                Announce::Presence(room, Change::Left(user_id)) => {
                    let payload = PresenceLeft {
                        room: room.clone(),
                        user_id,
                    };
                    self.fanout
                        .to_room(&room, server::PRESENCE_LEAVE, &payload, Except::default())
                        .await;
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
                    self.fanout
                        .to_room(&room, server::TYPING, &payload, except)
                        .await;
                }
            }
        }
    }

    async fn publish(&self, delta: Delta) {
        let payload = match serde_json::to_vec(&delta) {
            Ok(p) => Bytes::from(p),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode presence delta");
                return;
            }
        };
        if let Err(e) = self.bus.publish(TOPIC_PRESENCE, payload).await {
            metrics::counter!("hub_bus_publish_errors_total", "topic" => TOPIC_PRESENCE)
                .increment(1);
            tracing::error!(error = %e, "presence publish failed");
        }
    }

    /// Applies a delta from another node (silently: that node announced it).
    async fn apply_remote(&self, delta: Delta) {
        if delta.node() == self.node {
            return;
        }
        lock(&self.nodes).insert(delta.node().to_owned(), now());
        match delta {
            Delta::Add {
                node,
                room,
                sid,
                user,
                name,
                since,
            } => {
                lock(&self.registry).add(&room, ConnId::new(node, sid), &user, &name, &since);
            }
            Delta::Remove { node, room, sid } => {
                lock(&self.registry).remove(&room, &ConnId::new(node, sid), now());
            }
            Delta::Kick { room, user, .. } => {
                lock(&self.registry).remove_user(&room, &user);
                lock(&self.remote_typing).stop(&room, &user);
            }
            Delta::Status {
                user, status, meta, ..
            } => {
                lock(&self.registry).set_status(&user, status, meta);
            }
            Delta::TypingStart { room, user, .. } => {
                lock(&self.remote_typing).start(&room, &user, now());
            }
            Delta::TypingStop { room, user, .. } => {
                lock(&self.remote_typing).stop(&room, &user);
            }
            Delta::Heartbeat { .. } => {}
            Delta::Hello { node } => {
                let conns = {
                    let registry = lock(&self.registry);
                    registry
                        .conns_of_node(&self.node)
                        .into_iter()
                        .map(|(room, user, name, since, conn)| SnapshotConn {
                            status: registry.status_of(&user),
                            room,
                            sid: conn.sid,
                            user,
                            name,
                            since,
                        })
                        .collect()
                };
                self.publish(Delta::Snapshot {
                    node: self.node.clone(),
                    to: node,
                    conns,
                })
                .await;
            }
            Delta::Snapshot { node, to, conns } => {
                if to != self.node {
                    return;
                }
                let mut registry = lock(&self.registry);
                for c in conns {
                    registry.add(
                        &c.room,
                        ConnId::new(node.clone(), c.sid),
                        &c.user,
                        &c.name,
                        &c.since,
                    );
                    if let Some((status, meta)) = c.status {
                        registry.set_status(&c.user, status, meta);
                    }
                }
            }
            Delta::Bye { node } => {
                lock(&self.nodes).remove(&node);
                self.drop_node(&node).await;
            }
        }
    }

    /// Drops a stopped or dead node's connections; the survivor with the smallest id announces
    /// the leaves.
    async fn drop_node(&self, node: &str) {
        let gone = lock(&self.registry).remove_node(node);
        let announcer = {
            let nodes = lock(&self.nodes);
            nodes
                .keys()
                .chain(std::iter::once(&self.node))
                .min()
                .cloned()
        };
        if announcer.as_deref() == Some(self.node.as_str()) {
            let items = gone
                .into_iter()
                .map(|(room, user)| Announce::Presence(room, Change::Left(user)))
                .collect();
            self.announce(items).await;
        }
    }

    /// One pass of timers: due leaves, expired typists, dead nodes.
    async fn tick(&self) {
        let t = now();
        let due = lock(&self.registry).expire(t);
        let mut announce: Vec<Announce> = due
            .into_iter()
            .filter(|d| d.node == self.node)
            .map(|d| Announce::Presence(d.room, Change::Left(d.user)))
            .collect();
        let expired = lock(&self.local_typing).expire(t);
        lock(&self.remote_typing).expire(t);
        for (room, user) in expired {
            announce.push(Announce::Typing(room.clone(), user.clone(), false));
            self.publish(Delta::TypingStop {
                node: self.node.clone(),
                room,
                user,
            })
            .await;
        }
        self.announce(announce).await;
        let dead: Vec<String> = {
            let mut nodes = lock(&self.nodes);
            let dead: Vec<String> = nodes
                .iter()
                .filter(|(_, seen)| t.saturating_duration_since(**seen) > DEAD_AFTER)
                .map(|(n, _)| n.clone())
                .collect();
            for n in &dead {
                nodes.remove(n);
            }
            dead
        };
        for node in dead {
            tracing::warn!(%node, "node stopped sending heartbeats; dropping its connections");
            self.drop_node(&node).await;
        }
    }

    /// Starts the bus subscriber and the timer task, and says hello to the other nodes. Both
    /// tasks end when `stop` turns true.
    pub fn start(self: &Arc<Self>, stop: watch::Receiver<bool>) {
        let mut rx = self.bus.subscribe(TOPIC_PRESENCE);
        let this = self.clone();
        let mut stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = stopped.wait_for(|s| *s) => return,
                };
                match received {
                    Ok(payload) => match serde_json::from_slice::<Delta>(&payload) {
                        Ok(delta) => this.apply_remote(delta).await,
                        Err(e) => tracing::warn!(error = %e, "undecodable presence delta"),
                    },
                    Err(RecvError::Lagged(n)) => {
                        metrics::counter!("hub_bus_lagged_total", "topic" => TOPIC_PRESENCE)
                            .increment(n);
                        tracing::error!(
                            missed = n,
                            "presence fell behind; asking the other nodes again"
                        );
                        this.publish(Delta::Hello {
                            node: this.node.clone(),
                        })
                        .await;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        let this = Arc::downgrade(self);
        let mut stopped = stop;
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(TICK);
            let mut last_heartbeat: Option<Instant> = None;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                let Some(this) = this.upgrade() else { return };
                this.tick().await;
                let t = now();
                if last_heartbeat.is_none_or(|at| t.saturating_duration_since(at) >= HEARTBEAT) {
                    last_heartbeat = Some(t);
                    this.publish(Delta::Heartbeat {
                        node: this.node.clone(),
                    })
                    .await;
                }
            }
        });
        let this = self.clone();
        tokio::spawn(async move {
            this.publish(Delta::Hello {
                node: this.node.clone(),
            })
            .await
        });
    }

    /// Tells the other nodes this one is stopping.
    pub async fn stop(&self) {
        self.publish(Delta::Bye {
            node: self.node.clone(),
        })
        .await;
    }
}
